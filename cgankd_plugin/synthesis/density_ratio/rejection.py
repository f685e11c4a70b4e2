# Copyright (c) cgankd_plugin contributors.
"""Rejection sampling by density ratio: the bounds ``M`` and the draw."""
from typing import Sequence, Union

import numpy as np
from torch import Tensor

ArrayLike = Union[np.ndarray, Tensor, Sequence[float]]


def _as_numpy(values: ArrayLike, name: str) -> np.ndarray:
    if isinstance(values, Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(array)):
        raise ValueError(f'{name} contains NaN or infinite values')
    return array


def estimate_max_ratio(burnin_ratios: ArrayLike) -> float:
    """Estimate the bound ``M`` of the ratios from a burn-in draw.

    The official code takes the maximum. While sampling it also raises
    ``M`` to the largest ratio of each new batch, i.e.
    ``M = max(M, ratios.max())`` before :func:`rejection_sample`.

    Args:
        burnin_ratios (ArrayLike): Density ratios of a burn-in draw of fake
            samples.

    Returns:
        float: ``M > 0``.

    Raises:
        ValueError: if the draw is empty, not finite, or all ratios are 0
            (the density-ratio model collapsed: nothing would ever be
            accepted).
    """
    ratios = _as_numpy(burnin_ratios, 'burnin_ratios')
    if ratios.size == 0:
        raise ValueError('burnin_ratios is empty')
    bound = float(ratios.max())
    if not bound > 0.0:
        raise ValueError(
            f'the density ratios of all {ratios.size} burn-in samples are '
            f'{bound:g} (<= 0): the density-ratio model collapsed and '
            'rejection sampling would accept nothing. Retrain it (e.g. with '
            'a larger penalty) or disable subsampling.')
    return bound


def estimate_max_ratios(burnin_ratios: Sequence[ArrayLike]) -> np.ndarray:
    """Estimate one bound ``M`` per condition from its own burn-in draw.

    As the official code does for each label value of a continuous label
    (and for each class): ``M`` of a condition is the largest ratio of its
    burn-in draw, so the samples of a condition whose ratios are all small
    are not rejected for the large ratios of another. A condition whose
    burn-in ratios are all 0 (the model rejects that condition, not every
    sample) takes the largest bound of all, so a later candidate of it
    with a positive ratio can still be kept, rarely.

    Args:
        burnin_ratios (Sequence[ArrayLike]): The density ratios of each
            condition's burn-in draw.

    Returns:
        np.ndarray: ``(C,)`` float64 bounds ``M > 0``.

    Raises:
        ValueError: if a draw is empty or not finite, or every ratio of
            every draw is 0 (see :func:`estimate_max_ratio`).
    """
    draws = [_as_numpy(r, 'burnin_ratios') for r in burnin_ratios]
    if not draws or any(d.size == 0 for d in draws):
        raise ValueError('every condition needs a non-empty burn-in draw')
    largest = estimate_max_ratio(np.concatenate(draws))
    return np.array([d.max() if d.max() > 0 else largest for d in draws])


def rejection_sample(ratios: ArrayLike, max_ratio: ArrayLike,
                     rng: np.random.Generator) -> np.ndarray:
    """Keep each sample with probability ``min(1, r / M)``.

    Args:
        ratios (ArrayLike): ``(N,)`` density ratios of candidate samples.
        max_ratio (ArrayLike): The bound ``M > 0``, one for all or one per
            sample.
        rng (np.random.Generator): numpy generator drawing the uniforms.

    Returns:
        np.ndarray: ``(N,)`` bool mask of the accepted samples.
    """
    bound = np.asarray(max_ratio, dtype=np.float64)
    if not (np.all(np.isfinite(bound)) and np.all(bound > 0)):
        raise ValueError(f'max_ratio must be finite and > 0, got {max_ratio}')
    ratios = _as_numpy(ratios, 'ratios')
    accept_prob = np.clip(ratios / bound, 0.0, 1.0)
    # u < p with u in [0, 1): p = 0 never accepts, p = 1 always does.
    return rng.random(ratios.size) < accept_prob
