# Copyright (c) cgankd_plugin contributors.
"""BigGAN generator for class-conditional image synthesis (Brock et al.)."""
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from cgankd_plugin.registry import MODELS
from .residual_blocks import ResidualUpBlock
from .sn_layers import init_layer_weight, make_conv2d, make_linear

# Width multipliers of the feature maps, from the 4x4 input of the first
# up-block to the output of the last one (BigGAN's G_arch; 32 px is its
# CIFAR architecture, used by cGAN-KD on CIFAR-100).
GENERATOR_WIDTHS = {
    32: (4, 4, 4, 4),
    64: (16, 16, 8, 4, 2),
    128: (16, 16, 8, 4, 2, 1),
}


def split_sizes(total: int, parts: int) -> List[int]:
    """Split ``total`` into ``parts`` sizes differing by at most one.

    Args:
        total (int): the number to split.
        parts (int): how many parts.

    Returns:
        List[int]: The part sizes, larger ones first, summing to ``total``.
    """
    if total < parts:
        raise ValueError(f'cannot split {total} noise dimensions into '
                         f'{parts} non-empty chunks')
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


@MODELS.register_module()
class BigGANGenerator(BaseModule):
    """Class-conditional BigGAN generator.

    A linear map of the noise to a 4x4 grid, then one residual up-block per
    doubling of the resolution, each with conditional batch norm fed by a
    class embedding shared by all blocks, then BN -> ReLU -> 3x3 conv ->
    tanh. With ``hierarchical_noise`` the noise is split into one chunk per
    block plus one for the linear map, and each block's conditional batch
    norm sees its chunk joined to the class embedding.

    Args:
        num_classes (int): number of classes.
        noise_dim (int): width of the noise vector.
        img_size (int): output resolution, 32, 64 or 128; it sets the number
            of up-blocks (3, 4 or 5).
        img_channels (int): output channels.
        base_channels (int): width multiplier (BigGAN's ``G_ch``).
        shared_dim (int): width of the shared class embedding.
        hierarchical_noise (bool): whether to split the noise across the
            blocks.
        spectral_norm (bool): whether convs and linears are spectrally
            normalised (BigGAN: yes).
        init_type (str): weight init, see :func:`~.sn_layers.init_layer_weight`
            (cGAN-KD's CIFAR run uses ``'N02'``).
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
                 hierarchical_noise: bool = False,
                 spectral_norm: bool = True,
                 init_type: str = 'N02',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if img_size not in GENERATOR_WIDTHS:
            raise ValueError(f'img_size must be one of '
                             f'{sorted(GENERATOR_WIDTHS)}, got {img_size}')
        self.num_classes = num_classes
        self.noise_dim = noise_dim
        self.img_size = img_size
        self.img_channels = img_channels
        self.hierarchical_noise = hierarchical_noise
        self.bottom_width = 4
        widths = [base_channels * m for m in GENERATOR_WIDTHS[img_size]]
        num_blocks = len(widths) - 1
        if hierarchical_noise:
            self.noise_chunk_sizes = split_sizes(noise_dim, num_blocks + 1)
        else:
            self.noise_chunk_sizes = [noise_dim]
        block_noise = (
            self.noise_chunk_sizes[1:] if hierarchical_noise else [0] *
            num_blocks)

        self.shared_embedding = nn.Embedding(num_classes, shared_dim)
        init_layer_weight(self.shared_embedding, init_type)
        self.linear = make_linear(
            self.noise_chunk_sizes[0],
            widths[0] * self.bottom_width**2,
            spectral_norm=spectral_norm,
            init_type=init_type)
        self.blocks = nn.ModuleList([
            ResidualUpBlock(
                widths[i],
                widths[i + 1],
                condition_dim=shared_dim + block_noise[i],
                spectral_norm=spectral_norm,
                init_type=init_type) for i in range(num_blocks)
        ])
        self.output_norm = nn.BatchNorm2d(widths[-1])
        self.output_conv = make_conv2d(
            widths[-1],
            img_channels,
            spectral_norm=spectral_norm,
            init_type=init_type)

    def forward(self, noise: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """Generate images.

        Args:
            noise (torch.Tensor): (N, noise_dim) latent vectors.
            labels (torch.Tensor): (N,) class indices (long).

        Returns:
            torch.Tensor: (N, img_channels, img_size, img_size) images in
                [-1, 1].
        """
        class_embedding = self.shared_embedding(labels)
        if self.hierarchical_noise:
            chunks = torch.split(noise, self.noise_chunk_sizes, dim=1)
            noise = chunks[0]
            conditions = [
                torch.cat([class_embedding, chunk], dim=1)
                for chunk in chunks[1:]
            ]
        else:
            conditions = [class_embedding] * len(self.blocks)
        h = self.linear(noise).view(
            noise.size(0), -1, self.bottom_width, self.bottom_width)
        for block, condition in zip(self.blocks, conditions):
            h = block(h, condition)
        h = F.relu(self.output_norm(h))
        return torch.tanh(self.output_conv(h))
