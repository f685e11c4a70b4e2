# Copyright (c) cgankd_plugin contributors.
"""The conditions a bank is generated at, as the cGAN and the bank see them.

Classification: the class indices, the same for both. Regression: an even
grid of label values over the real set's ``label_range`` (inside its
normalisation range), stored in the bank in original units and given to
the cGAN normalised to ``[0, 1]``.
"""
from typing import Mapping, Optional, Sequence, Tuple

import numpy as np
import torch


class BankConditions:
    """The conditions of one bank build.

    Args:
        gan_labels (torch.Tensor): The conditions as the cGAN takes them:
            class indices (long) or label values in ``[0, 1]`` (float).
        bank_labels (np.ndarray): The same conditions as stored in the
            bank: class indices, or label values in original units.
        label_range (tuple[float, float], optional): Regression: the
            ``(low, high)`` range labels are normalised by.
        label_grid (tuple[float, float], optional): Regression: the ends
            of the label grid, in original units.
    """

    def __init__(self,
                 gan_labels: torch.Tensor,
                 bank_labels: np.ndarray,
                 label_range: Optional[Tuple[float, float]] = None,
                 label_grid: Optional[Tuple[float, float]] = None) -> None:
        self.gan_labels = gan_labels
        self.bank_labels = bank_labels
        self.label_range = label_range
        self.label_grid = label_grid

    @property
    def is_regression(self) -> bool:
        """Whether the conditions are label values (not classes)."""
        return self.label_range is not None

    def gan_label(self, info: Mapping) -> float:
        """The cGAN's label of a real sample (a dataset's data info).

        Args:
            info (Mapping): The sample's data info (``gt_label`` or
                ``gt_value``).

        Returns:
            float: Its class, or its value normalised to ``[0, 1]``.
        """
        if not self.is_regression:
            return info['gt_label']
        lo, hi = self.label_range
        return (info['gt_value'] - lo) / (hi - lo)


def normalisation_range(metainfo: Mapping,
                        label_range: Optional[Tuple[float, float]] = None
                        ) -> Tuple[float, float]:
    """The range regression labels are normalised by for the cGAN.

    Args:
        metainfo (Mapping): The real set's metainfo.
        label_range (tuple[float, float], optional): Given explicitly
            (``CGANHook.label_range``); else the set's
            ``normalization_range``, else its ``label_range``.

    Returns:
        tuple[float, float]: ``(low, high)``.
    """
    rng = label_range or metainfo.get('normalization_range') or metainfo.get(
        'label_range')
    if rng is None:
        raise ValueError('CGANHook.label_range is needed for regression '
                         '(the dataset has no normalization_range)')
    return float(rng[0]), float(rng[1])


def label_grid_range(metainfo: Mapping, lo: float,
                     hi: float) -> Tuple[float, float]:
    """Where the label grid lies: the real set's ``label_range``.

    The labels the real set can hold (``metainfo['label_range']``, e.g.
    ages 1 to 60 for UTKFace), inside the normalisation range; the whole
    normalisation range when the set has no ``label_range``.

    Args:
        metainfo (Mapping): The real set's metainfo.
        lo (float): Low end of the normalisation range.
        hi (float): High end of the normalisation range.

    Returns:
        tuple[float, float]: The grid's ends.
    """
    rng = metainfo.get('label_range')
    if rng is None:
        return lo, hi
    grid_lo, grid_hi = max(float(rng[0]), lo), min(float(rng[1]), hi)
    if not grid_lo <= grid_hi:
        raise ValueError(f'the real set\'s label_range {tuple(rng)} lies '
                         f'outside the normalisation range {(lo, hi)}')
    return grid_lo, grid_hi


def condition_name(condition: float,
                   class_names: Optional[Sequence[str]] = None) -> str:
    """How a picture names a condition.

    Args:
        condition (float): A class index or a label value.
        class_names (Sequence[str], optional): Names by class index (a
            dataset's ``metainfo['classes']``).

    Returns:
        str: ``'<index> <class name>'``, the index, or the label value.
    """
    value = float(condition)
    if not value.is_integer():
        return f'{value:.4g}'
    index = int(value)
    if class_names is not None and 0 <= index < len(class_names):
        return f'{index} {class_names[index]}'
    return str(index)


def bank_conditions(continuous: bool,
                    metainfo: Mapping,
                    num_classes: Optional[int] = None,
                    num_label_values: int = 100,
                    label_range: Optional[Tuple[float, float]] = None
                    ) -> BankConditions:
    """The conditions of a bank of a classification or regression set.

    Args:
        continuous (bool): Whether the cGAN takes a continuous label.
        metainfo (Mapping): The real set's metainfo.
        num_classes (int, optional): Classification: the number of classes.
        num_label_values (int): Regression: values in the grid, ends
            included.
        label_range (tuple[float, float], optional): Regression: the
            normalisation range, if not the set's.

    Returns:
        BankConditions: The conditions.
    """
    if not continuous:
        return BankConditions(
            torch.arange(num_classes), np.arange(num_classes))
    lo, hi = normalisation_range(metainfo, label_range)
    grid_lo, grid_hi = label_grid_range(metainfo, lo, hi)
    bank_labels = np.linspace(grid_lo, grid_hi,
                              num_label_values).astype(np.float32)
    gan_labels = torch.tensor(
        (bank_labels.astype(np.float64) - lo) / (hi - lo),
        dtype=torch.float32).clamp_(0.0, 1.0)
    return BankConditions(gan_labels, bank_labels, (lo, hi),
                          (grid_lo, grid_hi))
