# Copyright (c) cgankd_plugin contributors.
"""BigGAN generator for class-conditional image synthesis (Brock et al.)."""
from typing import Optional

import torch
import torch.nn as nn

from cgankd_plugin.registry import MODELS
from .residual_blocks import ResidualGenerator
from .sn_layers import init_layer

# Width multipliers of the feature maps, from the 4x4 input of the first
# up-block to the output of the last one (BigGAN's G_arch; 32 px is its
# CIFAR architecture, used by cGAN-KD on CIFAR-100).
GENERATOR_WIDTHS = {
    32: (4, 4, 4, 4),
    64: (16, 16, 8, 4, 2),
    128: (16, 16, 8, 4, 2, 1),
}


@MODELS.register_module()
class BigGANGenerator(ResidualGenerator):
    """Class-conditional BigGAN generator.

    A linear map of the noise to a 4x4 grid, then one residual up-block per
    doubling of the resolution, each with conditional batch norm fed by a
    class embedding shared by all blocks, then BN -> ReLU -> 3x3 conv ->
    tanh. Convs and linears are spectrally normalised and initialised
    ``'N02'`` (cGAN-KD's CIFAR run).

    Args:
        num_classes (int): number of classes.
        noise_dim (int): width of the noise vector.
        img_size (int): output resolution, 32, 64 or 128; it sets the number
            of up-blocks (3, 4 or 5).
        img_channels (int): output channels.
        base_channels (int): width multiplier (BigGAN's ``G_ch``).
        shared_dim (int): width of the shared class embedding.
        init_cfg (dict, optional): mmengine init config; weights are already
            initialised.
    """

    def __init__(self,
                 num_classes: int,
                 noise_dim: int = 128,
                 img_size: int = 32,
                 img_channels: int = 3,
                 base_channels: int = 64,
                 shared_dim: int = 128,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if img_size not in GENERATOR_WIDTHS:
            raise ValueError(f'img_size must be one of '
                             f'{sorted(GENERATOR_WIDTHS)}, got {img_size}')
        self.num_classes = num_classes
        self.noise_dim = noise_dim
        self.img_size = img_size
        self.img_channels = img_channels
        self.shared_embedding = init_layer(
            nn.Embedding(num_classes, shared_dim), spectral_norm=False)
        self._build_trunk(
            [base_channels * m for m in GENERATOR_WIDTHS[img_size]],
            shared_dim,
            spectral_norm=True,
            init_type='N02')

    def embed(self, labels: torch.Tensor) -> torch.Tensor:
        """The shared class embedding of (N,) class indices (long)."""
        return self.shared_embedding(labels)
