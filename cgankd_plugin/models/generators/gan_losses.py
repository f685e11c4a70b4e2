# Copyright (c) cgankd_plugin contributors.
"""Hinge GAN losses, with the optional per-sample weights of CcGAN."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F


def _weighted_mean(values: torch.Tensor,
                   weights: Optional[torch.Tensor]) -> torch.Tensor:
    if weights is None:
        return values.mean()
    return (weights.reshape(values.shape) * values).mean()


def hinge_discriminator_loss(
    real_logits: torch.Tensor,
    fake_logits: torch.Tensor,
    real_weights: Optional[torch.Tensor] = None,
    fake_weights: Optional[torch.Tensor] = None,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """The discriminator's hinge loss, split into its real and fake terms.

    Computed in float32 whatever the logits' dtype (autocast).

    ``mean(w_r * relu(1 - D(x_r)))`` and ``mean(w_f * relu(1 + D(x_f)))``;
    the weights are CcGAN's vicinal weights (all ones, i.e. None, for the
    hard vicinity and for class-conditional GANs). As in CcGAN's code the
    weighted terms are averaged over the batch, not normalised by the
    weights' sum.

    Args:
        real_logits (torch.Tensor): (N,) scores of real images.
        fake_logits (torch.Tensor): (M,) scores of generated images.
        real_weights (torch.Tensor, optional): optional (N,) weights of the
            real terms.
        fake_weights (torch.Tensor, optional): optional (M,) weights of the
            fake terms.

    Returns:
        Tuple[torch.Tensor, torch.Tensor]: The real term and the fake term; the
            loss is their sum.
    """
    real_term = _weighted_mean(F.relu(1.0 - real_logits.float()),
                               real_weights)
    fake_term = _weighted_mean(F.relu(1.0 + fake_logits.float()),
                               fake_weights)
    return real_term, fake_term


def hinge_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The generator's hinge loss, ``-mean(D(G(z)))``, in float32.

    Args:
        fake_logits (torch.Tensor): scores of generated images.

    Returns:
        torch.Tensor: The scalar loss.
    """
    return -fake_logits.float().mean()
