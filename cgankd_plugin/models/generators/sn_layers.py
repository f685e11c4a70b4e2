# Copyright (c) cgankd_plugin contributors.
"""Initialise the GANs' layers, then spectrally normalise them.

Spectral normalisation (Miyato et al., 2018) uses torch's parametrization,
so a state dict holds plain tensors (``parametrizations.weight.original``
and the power-iteration vectors ``_u`` / ``_v``) and modules deep-copy
cleanly, which the EMA copy of a generator relies on. The weight is
initialised *before* the parametrization is registered, so the power
iteration starts from the final weight.

Under autocast (``AmpOptimWrapper``) the parametrization still computes in
float32 (:class:`Float32SpectralNorm`).
"""
import math

import torch
import torch.nn as nn
from torch.nn.utils import parametrize
# torch's spectral-norm parametrization (private, but what its public
# ``spectral_norm`` registers): subclassed to keep its state-dict keys
# and its numbers, only its precision under autocast changes
from torch.nn.utils.parametrizations import _SpectralNorm

INIT_TYPES = ('N02', 'xavier')
# SNGAN's xavier gain for the convs of a residual branch.
SQRT2 = math.sqrt(2.0)
_TRANSPOSED_CONVS = (nn.ConvTranspose1d, nn.ConvTranspose2d,
                     nn.ConvTranspose3d)


class Float32SpectralNorm(_SpectralNorm):
    """torch's spectral norm, computed in float32 under autocast.

    CUDA autocast runs ``torch.mv``, the power iteration's product, in half
    precision. In float16 that is unstable: the products overflow for
    large weights, and the normalised ``u`` / ``v`` and the estimate of
    sigma underflow or lose their digits, so the weight is divided by a
    wrong (or infinite) sigma. bfloat16 keeps float32's range but only 8
    bits of mantissa, off by up to about 0.4% per step in ``u``, ``v`` and
    sigma. So autocast is switched off while the parametrization runs:
    ``u``, ``v`` and sigma stay float32 and the layer casts the normalised
    weight as autocast says.
    """

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        """The weight divided by its estimated largest singular value."""
        device_type = weight.device.type
        if not torch.amp.is_autocast_available(device_type):
            return super().forward(weight)
        with torch.autocast(device_type, enabled=False):
            return super().forward(weight)


def init_layer(layer: nn.Module,
               spectral_norm: bool = True,
               init_type: str = 'N02',
               gain: float = 1.0) -> nn.Module:
    """Initialise a new layer's weight, zero its bias, optionally add SN.

    Args:
        layer (nn.Module): a freshly built conv, linear or embedding.
        spectral_norm (bool): whether to wrap the weight in spectral norm.
        init_type (str): ``'N02'`` (normal, std 0.02, BigGAN's CIFAR
            setting) or ``'xavier'`` (Glorot uniform, SNGAN's choice).
        gain (float): the gain of the ``'xavier'`` init (SNGAN uses sqrt(2)
            for the convs of a residual branch); ``'N02'`` ignores it.

    Returns:
        nn.Module: ``layer``, spectrally normalised if asked.
    """
    if init_type == 'N02':
        nn.init.normal_(layer.weight, 0.0, 0.02)
    elif init_type == 'xavier':
        nn.init.xavier_uniform_(layer.weight, gain)
    else:
        raise ValueError(f'init_type must be one of {INIT_TYPES}, '
                         f'got {init_type!r}')
    if getattr(layer, 'bias', None) is not None:
        nn.init.zeros_(layer.bias)
    if spectral_norm:
        # torch's defaults: one power iteration per forward, eps 1e-12
        dim = 1 if isinstance(layer, _TRANSPOSED_CONVS) else 0
        parametrize.register_parametrization(
            layer, 'weight', Float32SpectralNorm(layer.weight, dim=dim))
    return layer


def has_spectral_norm(layer: nn.Module) -> bool:
    """Whether ``layer.weight`` is spectrally normalised.

    Args:
        layer (nn.Module): any module.

    Returns:
        bool: True when the weight carries torch's spectral-norm
            parametrization.
    """
    if not parametrize.is_parametrized(layer, 'weight'):
        return False
    return any(
        isinstance(p, _SpectralNorm)
        for p in layer.parametrizations['weight'])
