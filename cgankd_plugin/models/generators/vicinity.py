# Copyright (c) cgankd_plugin contributors.
"""Label vicinities of CcGAN (Ding et al., ICLR 2021).

The discriminator of a continuous-conditional GAN is trained at a target
label ``y = y_i + eps`` (``y_i`` a training label, ``eps ~ N(0, sigma^2)``)
on real images whose labels lie in a vicinity of ``y`` and on fake images
generated at labels in that vicinity. In the hard vicinity (HVDL) the
vicinity is ``|y' - y| <= kappa`` and every sample weighs 1; in the soft
one (SVDL) every sample weighs ``exp(-nu (y' - y)^2)``, and samples whose
weight would fall below a threshold are not drawn.
"""
import math
from typing import NamedTuple, Optional, Tuple

import torch

VICINITY_TYPES = ('hard', 'soft')
# CcGAN's ``nonzero_soft_weight_threshold``: samples of a soft vicinity
# weighing less than this are never drawn.
SOFT_WEIGHT_THRESHOLD = 1e-3


def check_vicinity_settings(vicinity: str, kappa: Optional[float],
                            owner: str) -> None:
    """Refuse a vicinity type or ``kappa`` CcGAN does not know.

    Args:
        vicinity (str): ``'hard'`` or ``'soft'``.
        kappa (float, optional): A radius (positive), a rule-of-thumb
            multiplier (negative) or None; never 0.
        owner (str): Who was given them, for the message.
    """
    if vicinity not in VICINITY_TYPES:
        raise ValueError(f'{owner}.vicinity must be one of '
                         f'{VICINITY_TYPES}, got {vicinity!r}')
    if kappa is not None and kappa == 0:
        raise ValueError(f'{owner}.kappa must be positive (a radius), '
                         'negative (a rule-of-thumb multiplier) or None')


def rule_of_thumb_sigma(labels: torch.Tensor) -> float:
    """Silverman's rule of thumb for the label noise ``sigma``.

    ``sigma = 1.06 * std(labels) * n^(-1/5)``, with the population std, as
    in CcGAN's code.

    Args:
        labels (torch.Tensor): (n,) training labels, normalised to [0, 1].

    Returns:
        float: sigma.
    """
    labels = labels.double().flatten()
    std = labels.std(unbiased=False).item()
    return 1.06 * std * labels.numel()**(-1 / 5)


def rule_of_thumb_kappa(labels: torch.Tensor,
                        multiplier: float = 1.0) -> float:
    """CcGAN's rule of thumb for the vicinity radius ``kappa``.

    ``kappa = multiplier * max gap between consecutive sorted unique
    labels``. For the soft vicinity CcGAN then uses ``nu = 1 / kappa^2``
    (:func:`soft_nu`).

    Args:
        labels (torch.Tensor): (n,) training labels, normalised to [0, 1].
        multiplier (float): CcGAN's ``|kappa|`` when its ``kappa`` flag is
            negative (1 by default; cGAN-KD uses 2 on UTKFace and 5 on
            SteeringAngle).

    Returns:
        float: kappa.
    """
    unique = torch.unique(labels.double().flatten())
    if unique.numel() < 2:
        raise ValueError('the rule of thumb for kappa needs at least two '
                         'distinct labels')
    return multiplier * (unique[1:] - unique[:-1]).max().item()


def soft_nu(kappa: float) -> float:
    """The soft-vicinity weight decay ``nu = 1 / kappa^2``."""
    return 1.0 / kappa**2


def soft_vicinal_weights(labels: torch.Tensor, targets: torch.Tensor,
                         nu: float) -> torch.Tensor:
    """Soft-vicinity weights ``exp(-nu * (label - target)^2)``.

    Args:
        labels (torch.Tensor): labels of the samples.
        targets (torch.Tensor): target labels, broadcastable against
            ``labels``.
        nu (float): the weight decay.

    Returns:
        torch.Tensor: The weights, of the broadcast shape.
    """
    return torch.exp(-nu * (labels - targets)**2)


def soft_vicinity_radius(nu: float,
                         threshold: float = SOFT_WEIGHT_THRESHOLD) -> float:
    """The distance at which the soft weight falls to ``threshold``."""
    return math.sqrt(-math.log(threshold) / nu)


def vicinity_bounds(sorted_labels: torch.Tensor, targets: torch.Tensor,
                    radius: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """Index ranges of the sorted labels within ``radius`` of each target.

    Args:
        sorted_labels (torch.Tensor): (n,) labels in ascending order.
        targets (torch.Tensor): (m,) target labels.
        radius (float): the vicinity radius.

    Returns:
        Tuple[torch.Tensor, torch.Tensor]: ``(start, stop)``, each (m,) long:
            ``sorted_labels[start[j]:
        stop[j]]`` are the labels ``y'`` with ``|y' - targets[j]| <=
        radius``.
    """
    targets = targets.to(sorted_labels.dtype)
    start = torch.searchsorted(sorted_labels, targets - radius, right=False)
    stop = torch.searchsorted(sorted_labels, targets + radius, right=True)
    return start, stop


class VicinalBatch(NamedTuple):
    """A discriminator batch drawn from label vicinities.

    Attributes:
        targets: (m,) target labels ``y_i + eps``.
        real_positions: (m,) positions, in the sorted training labels, of
            the real samples drawn from each target's vicinity.
        fake_labels: (m,) labels to generate fake samples at, uniform in
            the vicinity clipped to [0, 1].
    """
    targets: torch.Tensor
    real_positions: torch.Tensor
    fake_labels: torch.Tensor


def draw_vicinal_batch(sorted_labels: torch.Tensor,
                       unique_labels: torch.Tensor,
                       batch_size: int,
                       sigma: float,
                       radius: float,
                       generator: Optional[torch.Generator] = None,
                       max_redraws: int = 100) -> VicinalBatch:
    """Draw targets, real samples in their vicinities and fake labels.

    As CcGAN's training loop: a target is a uniformly drawn distinct
    training label plus ``N(0, sigma^2)`` noise; a target whose vicinity
    holds no training label gets new noise (after ``max_redraws`` tries,
    none, so its vicinity holds at least its own label); one real sample
    is drawn uniformly from the vicinity, and a fake label uniformly from
    ``[target - radius, target + radius]`` clipped to [0, 1].

    Args:
        sorted_labels (torch.Tensor): (n,) float64 training labels in ascending
            order.
        unique_labels (torch.Tensor): (u,) distinct training labels.
        batch_size (int): targets to draw.
        sigma (float): std of the label noise.
        radius (float): the vicinity radius (``kappa`` for the hard vicinity,
            :func:`soft_vicinity_radius` for the soft one).
        generator (torch.Generator, optional): CPU generator for all random
            draws.
        max_redraws (int): noise redraws for a target with an empty vicinity.

    Returns:
        VicinalBatch: The batch, on the CPU, in float64.
    """
    sorted_labels = sorted_labels.double().cpu()
    unique_labels = unique_labels.double().cpu()
    picks = torch.randint(
        unique_labels.numel(), (batch_size, ), generator=generator)
    base = unique_labels[picks]
    targets = base + sigma * torch.randn(
        batch_size, generator=generator, dtype=torch.float64)
    start, stop = vicinity_bounds(sorted_labels, targets, radius)
    for _ in range(max_redraws):
        empty = stop <= start
        if not bool(empty.any()):
            break
        noise = sigma * torch.randn(
            int(empty.sum()), generator=generator, dtype=torch.float64)
        targets[empty] = base[empty] + noise
        start, stop = vicinity_bounds(sorted_labels, targets, radius)
    empty = stop <= start
    if bool(empty.any()):
        targets[empty] = base[empty]
        start, stop = vicinity_bounds(sorted_labels, targets, radius)
    counts = (stop - start).double()
    offsets = torch.rand(
        batch_size, generator=generator, dtype=torch.float64) * counts
    real_positions = torch.minimum(start + offsets.long(), stop - 1)
    lower = (targets - radius).clamp(min=0.0)
    upper = (targets + radius).clamp(max=1.0)
    fake_labels = lower + torch.rand(
        batch_size, generator=generator, dtype=torch.float64) * (
            upper - lower)
    return VicinalBatch(targets, real_positions, fake_labels)
