# Copyright (c) cgankd_plugin contributors.
"""Layer factories shared by the GANs: initialise, then spectrally normalise.

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

INIT_TYPES = ('N02', 'ortho', 'xavier')
# SNGAN's xavier gain for the convs of a residual branch.
SQRT2 = math.sqrt(2.0)


def init_layer_weight(layer: nn.Module,
                      init_type: str = 'N02',
                      gain: float = 1.0) -> None:
    """Initialise ``layer.weight`` in place and zero its bias.

    Args:
        layer (nn.Module): a layer with a ``weight`` (conv, linear or
            embedding).
        init_type (str): ``'N02'`` (normal, std 0.02, BigGAN's CIFAR setting),
            ``'ortho'`` (orthogonal, BigGAN's default) or ``'xavier'``
            (Glorot uniform, SNGAN's choice).
        gain (float): the gain of the ``'xavier'`` init (SNGAN uses sqrt(2) for
            the convs of a residual branch); the other inits ignore it.
    """
    if init_type == 'N02':
        nn.init.normal_(layer.weight, 0.0, 0.02)
    elif init_type == 'ortho':
        nn.init.orthogonal_(layer.weight)
    elif init_type == 'xavier':
        nn.init.xavier_uniform_(layer.weight, gain)
    else:
        raise ValueError(f'init_type must be one of {INIT_TYPES}, '
                         f'got {init_type!r}')
    bias = getattr(layer, 'bias', None)
    if bias is not None:
        nn.init.zeros_(bias)


def _finish(layer: nn.Module, spectral_norm: bool, init_type: str,
            gain: float) -> nn.Module:
    init_layer_weight(layer, init_type, gain)
    return _spectral_norm(layer) if spectral_norm else layer


def make_conv2d(in_channels: int,
                out_channels: int,
                kernel_size: int = 3,
                spectral_norm: bool = True,
                init_type: str = 'N02',
                gain: float = 1.0,
                bias: bool = True) -> nn.Module:
    """A stride-1, size-preserving conv, optionally spectrally normalised.

    Args:
        in_channels (int): input channels.
        out_channels (int): output channels.
        kernel_size (int): an odd kernel size; padding keeps the spatial size.
        spectral_norm (bool): whether to wrap the weight in spectral norm.
        init_type (str): see :func:`init_layer_weight`.
        gain (float): see :func:`init_layer_weight`.
        bias (bool): whether the conv has a bias.

    Returns:
        nn.Module: The conv module.
    """
    conv = nn.Conv2d(
        in_channels,
        out_channels,
        kernel_size,
        padding=kernel_size // 2,
        bias=bias)
    return _finish(conv, spectral_norm, init_type, gain)


def make_linear(in_features: int,
                out_features: int,
                spectral_norm: bool = True,
                init_type: str = 'N02',
                gain: float = 1.0,
                bias: bool = True) -> nn.Module:
    """A linear layer, optionally spectrally normalised.

    Args:
        in_features (int): input features.
        out_features (int): output features.
        spectral_norm (bool): whether to wrap the weight in spectral norm.
        init_type (str): see :func:`init_layer_weight`.
        gain (float): see :func:`init_layer_weight`.
        bias (bool): whether the layer has a bias.

    Returns:
        nn.Module: The linear module.
    """
    linear = nn.Linear(in_features, out_features, bias=bias)
    return _finish(linear, spectral_norm, init_type, gain)


def make_embedding(num_embeddings: int,
                   embedding_dim: int,
                   spectral_norm: bool = True,
                   init_type: str = 'N02') -> nn.Module:
    """An embedding table, optionally spectrally normalised.

    Args:
        num_embeddings (int): rows of the table (the number of classes).
        embedding_dim (int): the width of a row.
        spectral_norm (bool): whether to wrap the table in spectral norm.
        init_type (str): see :func:`init_layer_weight`.

    Returns:
        nn.Module: The embedding module.
    """
    embedding = nn.Embedding(num_embeddings, embedding_dim)
    return _finish(embedding, spectral_norm, init_type, 1.0)


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
