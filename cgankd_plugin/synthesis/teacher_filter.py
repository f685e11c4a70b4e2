# Copyright (c) cgankd_plugin contributors.
"""The teacher-based filter of cGAN-KD (drop what the teacher doubts).

Classification: the cross-entropy of each fake sample against the class it
was generated for; per class, samples above the ``quantile`` of that
statistic on a burn-in draw are dropped (official q = 0.9). Regression:
the absolute error between the teacher's prediction and the label the
sample was generated for; samples above the ``quantile`` of the error on a
burn-in draw (pooled over labels, official q = 0.7) or above an absolute
``threshold`` are dropped. With cDR-RS the burn-in draw is that of its
sampler (its survivors), as the official code computes the cut-off on
subsampled images.
"""
from typing import NamedTuple, Optional

import numpy as np
import torch
import torch.nn.functional as F


class FilterSettings(NamedTuple):
    """The teacher filter of a bank build (``CGANHook.filter``).

    Attributes:
        quantile (float, optional): Keep samples whose statistic is at most
            this quantile of the burn-in draw.
        threshold (float, optional): An absolute cut-off instead.
        burn_in (int): Burn-in samples per condition (with cDR-RS, its
            sampler's survivors).
        filter_model (dict, optional): ``dict(model=..., checkpoint=...,
            data_preprocessor=...)``: a network other than the teacher.
    """
    quantile: Optional[float]
    threshold: Optional[float]
    burn_in: int
    filter_model: Optional[dict]


def parse_filter_settings(filter: Optional[dict]) -> FilterSettings:
    """Read ``CGANHook.filter``, refusing a bad field by its name.

    The default is ``quantile=0.9, burn_in=200``; a ``threshold`` given
    alone replaces the quantile. Checked when the hook is built, not after
    hours of cGAN training.

    Args:
        filter (dict, optional): ``quantile`` or ``threshold``,
            ``burn_in``, ``filter_model``.

    Returns:
        FilterSettings: The settings.
    """
    cfg = dict(burn_in=200)
    if 'threshold' not in (filter or {}):
        cfg['quantile'] = 0.9
    cfg.update(filter or {})
    filter_model = cfg.pop('filter_model', None)
    if filter_model is not None and (not isinstance(filter_model, dict)
                                     or 'model' not in filter_model
                                     or not filter_model.get('checkpoint')):
        raise ValueError(
            'CGANHook.filter.filter_model must be dict(model=<config>, '
            'checkpoint=<path>[, data_preprocessor=<config>]), got '
            f'{filter_model!r} (a random filter is useless).')
    settings = FilterSettings(
        cfg.pop('quantile', None), cfg.pop('threshold', None),
        int(cfg.pop('burn_in')), filter_model)
    if cfg:
        raise ValueError(f'CGANHook.filter: unknown keys {sorted(cfg)}; use '
                         'quantile, threshold, burn_in, filter_model.')
    check_filter_settings(settings.quantile, settings.threshold)
    return settings


def check_filter_settings(quantile: Optional[float],
                          threshold: Optional[float]) -> None:
    """Raise a ValueError naming the bad field of a ``filter`` setting."""
    if quantile is not None and threshold is not None:
        raise ValueError('filter: give either `quantile` or `threshold`, '
                         'not both.')
    if quantile is not None and not 0 < quantile <= 1:
        raise ValueError(
            f'filter.quantile must lie in (0, 1], got {quantile}; e.g. 0.9 '
            'keeps the 90% of samples the teacher agrees with most.')
    if threshold is not None and threshold < 0:
        raise ValueError(
            f'filter.threshold must be >= 0, got {threshold}: it is the '
            'largest teacher error (or cross-entropy) a sample may have.')


def classification_statistic(logits: torch.Tensor,
                             labels: torch.Tensor) -> np.ndarray:
    """Cross-entropy of each sample against its assigned class."""
    ce = F.cross_entropy(logits.float(), labels.long(), reduction='none')
    return ce.cpu().numpy()


def regression_statistic(predictions: torch.Tensor,
                         labels: torch.Tensor) -> np.ndarray:
    """Absolute error between the teacher's value and the assigned label."""
    return (predictions.float() - labels.float()).abs().cpu().numpy()


def cutoffs_from_burn_in(statistic: np.ndarray,
                         conditions: np.ndarray,
                         num_conditions: int,
                         quantile: Optional[float],
                         threshold: Optional[float],
                         per_condition: bool) -> np.ndarray:
    """One cut-off per condition, from a burn-in draw.

    Args:
        statistic (np.ndarray): The filter statistic of the burn-in samples.
        conditions (np.ndarray): Their condition indices.
        num_conditions (int): The number of conditions.
        quantile (float, optional): Keep samples at or below this quantile.
        threshold (float, optional): An absolute cut-off instead.
        per_condition (bool): Quantile per condition (classification) or
            pooled over all conditions (regression).

    Returns:
        np.ndarray: float64 cut-offs, one per condition (inf: keep all).
    """
    if threshold is not None:
        return np.full(num_conditions, float(threshold))
    if quantile is None or quantile >= 1:
        return np.full(num_conditions, np.inf)
    if not np.all(np.isfinite(statistic)):
        raise FloatingPointError(
            'the filter statistic of the burn-in draw is not finite: the '
            'teacher produced NaN/Inf on generated images.')
    if not per_condition:
        return np.full(num_conditions, np.quantile(statistic, quantile))
    cutoffs = np.empty(num_conditions)
    for c in range(num_conditions):
        values = statistic[conditions == c]
        if len(values) == 0:
            raise ValueError(f'burn-in draw holds no sample of condition {c}')
        cutoffs[c] = np.quantile(values, quantile)
    return cutoffs

