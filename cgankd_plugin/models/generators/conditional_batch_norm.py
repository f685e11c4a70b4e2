# Copyright (c) cgankd_plugin contributors.
"""Conditional batch normalisation: gain and bias predicted from a vector."""
import torch
import torch.nn as nn

from .sn_layers import init_layer


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose affine gain and bias are linear in a condition.

    ``out = BN(x) * (1 + W_g c) + W_b c``, with ``c`` the condition vector
    (a class embedding in BigGAN, a label embedding in CcGAN). The ``1 +``
    keeps the layer an identity affine map at initialisation.

    Args:
        num_features (int): channels of the normalised input.
        condition_dim (int): width of the condition vector.
        spectral_norm (bool): whether the two projections are spectrally
            normalised (BigGAN: yes; SNGAN / CcGAN generators: no).
        init_type (str): init of the projections, see
            :func:`~.sn_layers.init_layer`.
    """

    def __init__(self,
                 num_features: int,
                 condition_dim: int,
                 spectral_norm: bool = True,
                 init_type: str = 'N02') -> None:
        super().__init__()
        self.num_features = num_features
        self.norm = nn.BatchNorm2d(num_features, affine=False)
        self.gain = init_layer(
            nn.Linear(condition_dim, num_features, bias=False), spectral_norm,
            init_type)
        self.bias = init_layer(
            nn.Linear(condition_dim, num_features, bias=False), spectral_norm,
            init_type)

    def forward(self, x: torch.Tensor,
                condition: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` (N, C, H, W) and modulate it by ``condition``.

        Args:
            x (torch.Tensor): feature maps.
            condition (torch.Tensor): (N, condition_dim) condition vectors.

        Returns:
            torch.Tensor: The modulated feature maps, shaped like ``x``.
        """
        gain = 1.0 + self.gain(condition)[:, :, None, None]
        bias = self.bias(condition)[:, :, None, None]
        return self.norm(x) * gain + bias
