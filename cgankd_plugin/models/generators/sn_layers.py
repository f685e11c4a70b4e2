# Copyright (c) cgankd_plugin contributors.
"""Initialise the GANs' layers, then spectrally normalise them.

Spectral normalisation (Miyato et al., 2018) uses torch's parametrization,
so a state dict holds plain tensors (``parametrizations.weight.original``
and the power-iteration vectors ``_u`` / ``_v``) and modules deep-copy
cleanly, which the EMA copy of a generator relies on. The weight is
initialised *before* the parametrization is registered, so the power
iteration starts from the final weight.
"""
import math

import torch.nn as nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

INIT_TYPES = ('N02', 'xavier')
# SNGAN's xavier gain for the convs of a residual branch.
SQRT2 = math.sqrt(2.0)


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
    return _spectral_norm(layer) if spectral_norm else layer


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
        type(p).__name__ == '_SpectralNorm'
        for p in layer.parametrizations['weight'])
