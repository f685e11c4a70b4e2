# Copyright (c) cgankd_plugin contributors.
"""SNGAN-style generator for continuous labels, as used by CcGAN."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from cgankd_plugin.registry import MODELS
from .label_embedding import LabelEmbedding
from .residual_blocks import ResidualUpBlock
from .sn_layers import make_conv2d, make_linear

# Width multipliers from the 4x4 input of the first up-block to the last
# block's output; 64 px is the SNGAN generator of CcGAN / cGAN-KD on
# UTKFace and SteeringAngle (16, 8, 4, 2, 1) x G_ch.
CCGAN_GENERATOR_WIDTHS = {
    32: (8, 4, 2, 1),
    64: (16, 8, 4, 2, 1),
}


@MODELS.register_module()
class CcGANGenerator(BaseModule):
    """Continuous-conditional generator (SNGAN architecture, CcGAN input).

    The label goes through a :class:`LabelEmbedding` MLP and conditions
    every residual up-block's batch norms; the noise is linearly mapped to
    a 4x4 grid. Output head: BN -> ReLU -> 3x3 conv -> tanh. As in SNGAN,
    the generator has no spectral norm and uses Xavier init.

    Args:
        noise_dim (int): width of the noise vector.
        img_size (int): output resolution, 32 or 64.
        img_channels (int): output channels.
        base_channels (int): width multiplier (CcGAN's ``gene_ch``).
        label_embed_dim (int): width of the label embedding.
        label_hidden_layers (int): hidden layers of the label MLP.
        init_cfg (dict, optional): mmengine init config; weights are already
            initialised.
    """

    def __init__(self,
                 noise_dim: int = 128,
                 img_size: int = 64,
                 img_channels: int = 3,
                 base_channels: int = 64,
                 label_embed_dim: int = 128,
                 label_hidden_layers: int = 3,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if img_size not in CCGAN_GENERATOR_WIDTHS:
            raise ValueError(
                f'img_size must be one of '
                f'{sorted(CCGAN_GENERATOR_WIDTHS)}, got {img_size}')
        self.noise_dim = noise_dim
        self.img_size = img_size
        self.img_channels = img_channels
        self.bottom_width = 4
        widths = [base_channels * m for m in CCGAN_GENERATOR_WIDTHS[img_size]]
        self.label_embedding = LabelEmbedding(label_embed_dim, label_embed_dim,
                                              label_hidden_layers)
        self.linear = make_linear(
            noise_dim,
            widths[0] * self.bottom_width**2,
            spectral_norm=False,
            init_type='xavier')
        self.blocks = nn.ModuleList([
            ResidualUpBlock(
                widths[i],
                widths[i + 1],
                condition_dim=label_embed_dim,
                spectral_norm=False,
                init_type='xavier') for i in range(len(widths) - 1)
        ])
        self.output_norm = nn.BatchNorm2d(widths[-1])
        self.output_conv = make_conv2d(
            widths[-1], img_channels, spectral_norm=False, init_type='xavier')

    def forward(self, noise: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """Generate images.

        Args:
            noise (torch.Tensor): (N, noise_dim) latent vectors.
            labels (torch.Tensor): (N,) float labels (normalised to [0, 1]).

        Returns:
            torch.Tensor: (N, img_channels, img_size, img_size) images in
                [-1, 1].
        """
        condition = self.label_embedding(labels)
        h = self.linear(noise).view(
            noise.size(0), -1, self.bottom_width, self.bottom_width)
        for block in self.blocks:
            h = block(h, condition)
        h = F.relu(self.output_norm(h))
        return torch.tanh(self.output_conv(h))
