# Copyright (c) cgankd_plugin contributors.
"""Rejection sampling by density ratio, with a running bound ``M``."""
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


class RejectionSampler:
    """The cDR-RS sampler of one condition: ``M`` is a running maximum.

    ``M`` starts as the largest ratio of a burn-in draw of the condition
    and, before each batch of candidates is sampled, rises to the batch's
    largest ratio (as the official sampler does), so no candidate is kept
    with a probability above 1. A bound of 0 (every ratio seen so far is
    0) keeps nothing.

    Args:
        max_ratio (float): ``M`` after the burn-in (>= 0).
    """

    def __init__(self, max_ratio: float) -> None:
        max_ratio = float(max_ratio)
        if not (np.isfinite(max_ratio) and max_ratio >= 0):
            raise ValueError(
                f'max_ratio must be finite and >= 0, got {max_ratio}')
        self.max_ratio = max_ratio

    def __call__(self, ratios: ArrayLike,
                 rng: np.random.Generator) -> np.ndarray:
        """Raise ``M`` to the batch's largest ratio, then sample.

        Args:
            ratios (ArrayLike): ``(N,)`` density ratios of a batch.
            rng (np.random.Generator): Draws the uniforms.

        Returns:
            np.ndarray: ``(N,)`` bool mask of the accepted samples.
        """
        ratios = _as_numpy(ratios, 'ratios')
        if ratios.size:
            self.max_ratio = max(self.max_ratio, float(ratios.max()))
        if self.max_ratio <= 0:
            return np.zeros(ratios.size, bool)
        return rejection_sample(ratios, self.max_ratio, rng)
