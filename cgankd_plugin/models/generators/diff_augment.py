# Copyright (c) cgankd_plugin contributors.
"""Differentiable augmentation (DiffAugment, Zhao et al., NeurIPS 2020).

The same random transform family is applied to real and fake images before
the discriminator, and gradients flow through it to the generator. All
randomness comes from an optional ``torch.Generator`` and is drawn on the
images' device (a generator of that device, or of the CPU for ``meta``
images), so that GAN training is reproducible and never waits for a copy
from the host.
"""
from typing import Callable, Dict, List, Optional

import torch

# Translation shifts by up to 1/8 of the side and cutout masks a square of
# half the side: the ratios of the DiffAugment paper.
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def _uniform(images: torch.Tensor,
             generator: Optional[torch.Generator]) -> torch.Tensor:
    """One U(0, 1) draw per image, shaped (N, 1, 1, 1).

    Drawn in float32 (a half-precision draw has few distinct values),
    then cast to the images' dtype.
    """
    values = torch.rand(
        images.size(0), 1, 1, 1, generator=generator, device=images.device)
    return values.to(images.dtype)


def _randint(low: int, high: int, images: torch.Tensor,
             generator: Optional[torch.Generator]) -> torch.Tensor:
    """One integer in [low, high) per image, shaped (N, 1)."""
    return torch.randint(
        low, high, (images.size(0), 1), generator=generator,
        device=images.device)


def adjust_brightness(
        images: torch.Tensor,
        generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Add a per-image offset drawn from U(-0.5, 0.5)."""
    return images + (_uniform(images, generator) - 0.5)


def adjust_saturation(
        images: torch.Tensor,
        generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Scale each pixel's deviation from its channel mean by U(0, 2)."""
    mean = images.mean(dim=1, keepdim=True)
    return (images - mean) * (_uniform(images, generator) * 2) + mean


def adjust_contrast(
        images: torch.Tensor,
        generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Scale each image's deviation from its mean by U(0.5, 1.5)."""
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    return (images - mean) * (_uniform(images, generator) + 0.5) + mean


def translate(images: torch.Tensor,
              generator: Optional[torch.Generator] = None,
              ratio: float = TRANSLATION_RATIO) -> torch.Tensor:
    """Shift each image by a random integer offset, filling with zeros.

    Args:
        images (torch.Tensor): (N, C, H, W) images.
        generator (torch.Generator, optional): source of the random offsets.
        ratio (float): the largest shift as a fraction of the side.

    Returns:
        torch.Tensor: The shifted images.
    """
    num, _, height, width = images.shape
    shift_h = int(height * ratio + 0.5)
    shift_w = int(width * ratio + 0.5)
    offset_h = _randint(-shift_h, shift_h + 1, images, generator)
    offset_w = _randint(-shift_w, shift_w + 1, images, generator)
    device = images.device
    rows = torch.arange(height, device=device)[None] + offset_h
    cols = torch.arange(width, device=device)[None] + offset_w
    inside = (((rows >= 0) & (rows < height))[:, :, None]
              & ((cols >= 0) & (cols < width))[:, None, :])
    rows = rows.clamp(0, height - 1)
    cols = cols.clamp(0, width - 1)
    batch = torch.arange(num, device=device)[:, None, None]
    shifted = images.permute(0, 2, 3, 1)[batch, rows[:, :, None],
                                         cols[:, None, :]]
    shifted = shifted * inside[..., None].to(images.dtype)
    return shifted.permute(0, 3, 1, 2).contiguous()


def cutout(images: torch.Tensor,
           generator: Optional[torch.Generator] = None,
           ratio: float = CUTOUT_RATIO) -> torch.Tensor:
    """Zero a randomly centred square (clipped at the borders) per image.

    Args:
        images (torch.Tensor): (N, C, H, W) images.
        generator (torch.Generator, optional): source of the random centres.
        ratio (float): the side of the square as a fraction of the image side.

    Returns:
        torch.Tensor: The masked images.
    """
    _, _, height, width = images.shape
    size_h = int(height * ratio + 0.5)
    size_w = int(width * ratio + 0.5)
    centre_h = _randint(0, height + (1 - size_h % 2), images, generator)
    centre_w = _randint(0, width + (1 - size_w % 2), images, generator)
    top = centre_h - size_h // 2
    left = centre_w - size_w // 2
    rows = torch.arange(height, device=images.device)[None]
    cols = torch.arange(width, device=images.device)[None]
    in_rows = (rows >= top) & (rows < top + size_h)
    in_cols = (cols >= left) & (cols < left + size_w)
    keep = ~(in_rows[:, :, None] & in_cols[:, None, :])
    return images * keep[:, None].to(images.dtype)


AUGMENTATIONS: Dict[str, List[Callable]] = {
    'color': [adjust_brightness, adjust_saturation, adjust_contrast],
    'translation': [translate],
    'cutout': [cutout],
}


def diff_augment(images: torch.Tensor,
                 policy: Optional[str],
                 generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Apply a DiffAugment policy, differentiably.

    Args:
        images (torch.Tensor): (N, C, H, W) float images.
        policy (str, optional): comma-separated names from ``'color'``,
            ``'translation'`` and ``'cutout'``, applied in order; None or ''
            for none.
        generator (torch.Generator, optional): Generator of all random
            draws, on the images' device (the CPU's for ``meta`` images);
            None uses torch's global generator of that device.

    Returns:
        torch.Tensor: The augmented images, same shape as ``images``.
    """
    for name in check_policy(policy):
        for augmentation in AUGMENTATIONS[name]:
            images = augmentation(images, generator)
    return images


def check_policy(policy: Optional[str]) -> List[str]:
    """The augmentations a policy names, in order.

    Args:
        policy (str, optional): a DiffAugment policy string, or None.

    Returns:
        List[str]: The names (none for None or ``''``).

    Raises:
        ValueError: naming the unknown augmentations.
    """
    names = [name.strip() for name in policy.split(',')] if policy else []
    unknown = [name for name in names if name not in AUGMENTATIONS]
    if unknown:
        raise ValueError(f'unknown DiffAugment policy {unknown}; '
                         f'choose from {sorted(AUGMENTATIONS)}')
    return names
