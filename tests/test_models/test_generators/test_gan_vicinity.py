# Copyright (c) cgankd_plugin contributors.
"""CcGAN's vicinal weights, vicinity sampling and rules of thumb."""
import math

import pytest
import torch

from cgankd_plugin.models.generators import (
    draw_vicinal_batch, rule_of_thumb_kappa, rule_of_thumb_sigma, soft_nu,
    soft_vicinal_weights, vicinity_bounds)

LABELS = torch.tensor([0.0, 0.1, 0.1, 0.4, 1.0], dtype=torch.float64)


def test_hard_vicinity_keeps_exactly_the_labels_within_kappa():
    labels = torch.tensor([0.10, 0.26, 0.29, 0.30, 0.34, 0.36, 0.7])
    start, stop = vicinity_bounds(labels, torch.tensor([0.3, 0.1, 0.6]),
                                  0.05)
    assert start.tolist() == [1, 0, 6] and stop.tolist() == [5, 1, 6]
    # the boundary is inclusive (dyadic values, exact in floating point)
    edges = torch.tensor([0.25, 0.375, 0.4375])
    start, stop = vicinity_bounds(edges, torch.tensor([0.3125]), 0.0625)
    assert (start.item(), stop.item()) == (0, 2)


def test_soft_weights_equal_the_gaussian_kernel():
    labels = torch.tensor([0.2, 0.5, 0.9])
    nu = 30.0
    weights = soft_vicinal_weights(labels, torch.tensor(0.4), nu)
    expected = [math.exp(-nu * (y - 0.4)**2) for y in (0.2, 0.5, 0.9)]
    assert weights.tolist() == pytest.approx(expected)
    assert soft_vicinal_weights(torch.tensor(0.4), torch.tensor(0.4),
                                nu).item() == 1.0


def test_vicinity_bounds_match_the_hard_mask():
    generator = torch.Generator().manual_seed(0)
    labels = torch.sort(
        torch.rand(200, generator=generator, dtype=torch.float64)).values
    targets = torch.rand(20, generator=generator, dtype=torch.float64)
    start, stop = vicinity_bounds(labels, targets, 0.03)
    for j in range(20):
        inside = torch.nonzero(
            (labels - targets[j]).abs() <= 0.03).flatten()
        assert inside.tolist() == list(range(start[j], stop[j]))


def test_rule_of_thumb_on_a_known_label_set():
    # population std of [0, .1, .1, .4, 1] (mean .32) is sqrt(0.1336)
    expected_sigma = 1.06 * math.sqrt(0.1336) * 5**(-1 / 5)
    assert rule_of_thumb_sigma(LABELS) == pytest.approx(expected_sigma)
    # distinct labels 0, .1, .4, 1: the largest gap is 0.6
    assert rule_of_thumb_kappa(LABELS) == pytest.approx(0.6)
    assert rule_of_thumb_kappa(LABELS, multiplier=2) == pytest.approx(1.2)
    assert soft_nu(0.6) == pytest.approx(1 / 0.36)
    with pytest.raises(ValueError, match='two distinct'):
        rule_of_thumb_kappa(torch.tensor([0.5, 0.5]))


def test_vicinal_batch_stays_in_the_vicinity():
    generator = torch.Generator().manual_seed(0)
    labels = torch.sort(
        torch.rand(50, generator=generator, dtype=torch.float64)).values
    unique = torch.unique(labels)
    radius = 0.02
    batch = draw_vicinal_batch(
        labels, unique, 64, sigma=0.05, radius=radius, generator=generator)
    real = labels[batch.real_positions]
    assert torch.all((real - batch.targets).abs() <= radius + 1e-12)
    assert torch.all((batch.fake_labels - batch.targets).abs() <= radius +
                     1e-12)
    assert torch.all((batch.fake_labels >= 0) & (batch.fake_labels <= 1))
    # the targets carry noise: they are not all training labels
    assert not torch.isin(batch.targets, labels).all()
