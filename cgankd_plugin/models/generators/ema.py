# Copyright (c) cgankd_plugin contributors.
"""Exponential moving average of a network's weights."""
import torch
import torch.nn as nn


@torch.no_grad()
def update_ema(ema_model: nn.Module, model: nn.Module,
               momentum: float) -> None:
    """Move ``ema_model``'s parameters towards ``model``'s, in place.

    ``ema = momentum * ema + (1 - momentum) * param`` for every parameter
    (``momentum=0`` copies them, as BigGAN does before ``ema_start``).
    Buffers (batch-norm statistics, spectral-norm power-iteration vectors)
    are copied, not averaged.

    Args:
        ema_model (nn.Module): the averaged copy; same architecture as
            ``model``.
        model (nn.Module): the trained network.
        momentum (float): the decay, in [0, 1].
    """
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f'momentum must be in [0, 1], got {momentum}')
    ema_params = dict(ema_model.named_parameters())
    for name, param in model.named_parameters():
        ema_params[name].lerp_(param.detach(), 1.0 - momentum)
    ema_buffers = dict(ema_model.named_buffers())
    for name, buffer in model.named_buffers():
        ema_buffers[name].copy_(buffer)
