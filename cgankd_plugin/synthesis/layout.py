# Copyright (c) cgankd_plugin contributors.
"""Where each fake sample sits in a bank, known before the bank exists.

MMEngine builds the dataloader (and CRD's per-class index lists) before any
hook runs, so the synthetic part must have a fixed length and a fixed
condition per position. A bank holds ``num_fake`` samples split as evenly as
possible over its conditions (classes, or regression label values), in
contiguous blocks: condition 0 first, then condition 1, and so on. A
regression bank's blocks follow the filter's acceptance instead
(:func:`quotas_by_acceptance`): no class list depends on them.
"""
import numpy as np


def condition_quotas(num_fake: int, num_conditions: int) -> np.ndarray:
    """Samples per condition: as even as possible, the first ones +1.

    Args:
        num_fake (int): Total number of fake samples.
        num_conditions (int): Number of classes or label values.

    Returns:
        np.ndarray: int64 array of length ``num_conditions``.
    """
    if num_conditions <= 0:
        raise ValueError(f'num_conditions must be > 0, got {num_conditions}')
    if num_fake < 0:
        raise ValueError(f'num_fake must be >= 0, got {num_fake}')
    quotas = np.full(num_conditions, num_fake // num_conditions, np.int64)
    quotas[:num_fake % num_conditions] += 1
    return quotas


def condition_of_positions(num_fake: int, num_conditions: int) -> np.ndarray:
    """The condition index of every position 0..num_fake-1 of a bank."""
    quotas = condition_quotas(num_fake, num_conditions)
    return np.repeat(np.arange(num_conditions), quotas)


def quotas_by_acceptance(num_fake: int, accepted: np.ndarray) -> np.ndarray:
    """Samples per condition in proportion to its burn-in acceptance.

    Largest remainders (ties to the lower condition): the quotas sum to
    ``num_fake``, a condition the filter never passes gets none.

    Args:
        num_fake (int): Total number of fake samples.
        accepted (np.ndarray): Burn-in candidates each condition passed.

    Returns:
        np.ndarray: int64 array of the same length as ``accepted``.

    Raises:
        ValueError: No condition passed anything.
    """
    accepted = np.asarray(accepted, np.float64)
    if accepted.sum() <= 0:
        raise ValueError('the filter rejected every burn-in candidate of '
                         'every label value: loosen filter.quantile / '
                         'filter.threshold, or train the cGAN longer.')
    exact = num_fake * accepted / accepted.sum()
    quotas = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - quotas), kind='stable')
    quotas[order[:num_fake - int(quotas.sum())]] += 1
    return quotas
