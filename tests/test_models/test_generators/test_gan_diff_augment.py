# Copyright (c) cgankd_plugin contributors.
"""DiffAugment keeps shapes, is differentiable and reproducible."""
import pytest
import torch

from cgankd_plugin.models.generators import diff_augment
from cgankd_plugin.models.generators.diff_augment import cutout, translate

POLICY = 'color,translation,cutout'


def test_diff_augment_keeps_shape_and_is_differentiable():
    images = torch.rand(4, 3, 16, 16, requires_grad=True)
    out = diff_augment(images, POLICY, torch.Generator().manual_seed(0))
    assert out.shape == images.shape
    out.square().sum().backward()
    assert images.grad is not None
    assert images.grad.abs().sum() > 0


def test_diff_augment_is_reproducible_and_random():
    images = torch.rand(4, 3, 16, 16)
    first = diff_augment(images, POLICY, torch.Generator().manual_seed(3))
    again = diff_augment(images, POLICY, torch.Generator().manual_seed(3))
    other = diff_augment(images, POLICY, torch.Generator().manual_seed(4))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    assert not torch.equal(first, images)


def test_no_policy_is_identity():
    images = torch.rand(2, 3, 8, 8)
    assert diff_augment(images, None) is images
    assert diff_augment(images, '') is images


def test_translation_shifts_content_and_fills_zeros():
    images = torch.ones(8, 1, 16, 16)
    out = translate(images, torch.Generator().manual_seed(0))
    # at most 2 (= 16 / 8) rows and columns are zero-filled
    zeros = (out == 0).float().mean(dim=(1, 2, 3))
    assert torch.all(zeros <= 1 - (14 * 14) / 256 + 1e-6)
    assert set(out.unique().tolist()) <= {0.0, 1.0}


def test_cutout_masks_at_most_a_half_side_square():
    images = torch.ones(8, 2, 16, 16)
    out = cutout(images, torch.Generator().manual_seed(0))
    masked = (out[:, 0] == 0).sum(dim=(1, 2))
    assert torch.all(masked <= 8 * 8)
    assert masked.sum() > 0
    # the mask is shared by the channels
    assert torch.equal(out[:, 0], out[:, 1])


def test_unknown_policy_raises():
    with pytest.raises(ValueError, match='blur'):
        diff_augment(torch.rand(1, 3, 8, 8), 'color,blur')
