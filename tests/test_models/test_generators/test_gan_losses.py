# Copyright (c) cgankd_plugin contributors.
"""Hinge losses on hand-computed inputs."""
import pytest
import torch

from cgankd_plugin.models.generators import (hinge_discriminator_loss,
                                             hinge_generator_loss)


def test_hinge_discriminator_loss_known_values():
    real = torch.tensor([2.0, 0.5, -1.0])
    fake = torch.tensor([-2.0, 0.5, 1.0])
    real_term, fake_term = hinge_discriminator_loss(real, fake)
    # relu(1 - real) = [0, 0.5, 2]; relu(1 + fake) = [0, 1.5, 2]
    assert real_term.item() == pytest.approx(2.5 / 3)
    assert fake_term.item() == pytest.approx(3.5 / 3)


def test_hinge_discriminator_loss_weights():
    real = torch.tensor([0.0, 0.0])
    fake = torch.tensor([1.0, 3.0])
    real_term, fake_term = hinge_discriminator_loss(real, fake,
                                                    torch.tensor([1.0, 0.5]),
                                                    torch.tensor([0.25, 0.0]))
    # mean([1 * 1, 0.5 * 1]) and mean([0.25 * 2, 0 * 4])
    assert real_term.item() == pytest.approx(0.75)
    assert fake_term.item() == pytest.approx(0.25)


def test_hinge_generator_loss_known_values():
    assert hinge_generator_loss(torch.tensor([1.0, -3.0, 0.5])).item() == (
        pytest.approx(0.5))
