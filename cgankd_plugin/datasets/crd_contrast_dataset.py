# Copyright (c) cgankd_plugin contributors.
"""mmrazor's ``CRDDataset`` fixed for class-imbalanced data on numpy 2."""
from typing import List

import numpy as np
from mmrazor.datasets import CRDDataset

from ..registry import DATASETS


def _object_array(rows: List[np.ndarray]) -> np.ndarray:
    """A 1-d object array of index arrays (rows may differ in length)."""
    out = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows):
        out[i] = row
    return out


@DATASETS.register_module()
class CRDContrastDataset(CRDDataset):
    """``CRDDataset`` whose per-class index lists may differ in length.

    mmrazor turns the per-class positive and negative index lists into one
    numpy array, which numpy >= 1.24 refuses when classes hold different
    numbers of samples (any real + synthetic mix, any subset). Here they are
    kept as object arrays of index arrays; sampling is unchanged.

    Args: as mmrazor's ``CRDDataset`` (``dataset``, ``neg_num``,
        ``percent``, ``lazy_init``, ``num_classes``, ``sample_mode``).
    """

    def _parse_fullset_contrast_info(self) -> None:
        if self.sample_mode not in ('exact', 'random'):
            raise ValueError("CRDContrastDataset: sample_mode must be "
                             f"'exact' or 'random', got {self.sample_mode!r}")
        if self.dataset.test_mode:
            return
        labels = np.asarray(self.dataset.get_gt_labels(), dtype=np.int64)
        num_classes = self.num_classes
        if num_classes is None:
            num_classes = int(labels.max()) + 1
        if labels.min() < 0 or labels.max() >= num_classes:
            raise ValueError(
                f'CRDContrastDataset: labels must lie in [0, {num_classes})'
                f', found [{labels.min()}, {labels.max()}]; check '
                '`num_classes`.')
        self.gt_labels = labels
        self.num_samples = len(labels)
        all_idx = np.arange(self.num_samples)
        positive = [all_idx[labels == c] for c in range(num_classes)]
        negative = [all_idx[labels != c] for c in range(num_classes)]
        if 0 < self.percent < 1:
            negative = [
                np.random.permutation(neg)[:int(len(neg) * self.percent)]
                for neg in negative
            ]
        self.cls_positive = _object_array(positive)
        self.cls_negative = _object_array(negative)
