# Copyright (c) cgankd_plugin contributors.
"""Residual up- (generator) and down- (discriminator) blocks.

Both follow the BigGAN / SNGAN layout; the only differences between the
two papers' blocks (spectral norm in G, the init, the widths) are
arguments here. :class:`ResidualGenerator` is the trunk both papers'
generators share.
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from .conditional_batch_norm import ConditionalBatchNorm2d
from .sn_layers import SQRT2, init_layer


class ResidualUpBlock(nn.Module):
    """Conditional residual block that doubles the resolution.

    Main branch: CBN -> ReLU -> 2x nearest upsample -> 3x3 conv -> CBN ->
    ReLU -> 3x3 conv. Shortcut: 1x1 conv of the upsampled input (applied
    before upsampling, which is the same map at a quarter of the cost).

    Args:
        in_channels (int): input channels.
        out_channels (int): output channels.
        condition_dim (int): width of the vector the batch norms are
            conditioned on.
        spectral_norm (bool): whether convs and CBN projections are spectrally
            normalised.
        init_type (str): weight init, see
            :func:`~.sn_layers.init_layer`.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 condition_dim: int,
                 spectral_norm: bool = True,
                 init_type: str = 'N02') -> None:
        super().__init__()
        self.norm1 = ConditionalBatchNorm2d(in_channels, condition_dim,
                                            spectral_norm, init_type)
        self.conv1 = init_layer(
            nn.Conv2d(in_channels, out_channels, 3, padding=1),
            spectral_norm, init_type, SQRT2)
        self.norm2 = ConditionalBatchNorm2d(out_channels, condition_dim,
                                            spectral_norm, init_type)
        self.conv2 = init_layer(
            nn.Conv2d(out_channels, out_channels, 3, padding=1),
            spectral_norm, init_type, SQRT2)
        self.shortcut = init_layer(
            nn.Conv2d(in_channels, out_channels, 1), spectral_norm,
            init_type)

    def forward(self, x: torch.Tensor,
                condition: torch.Tensor) -> torch.Tensor:
        """Upsample ``x`` (N, C_in, H, W) to (N, C_out, 2H, 2W).

        Args:
            x (torch.Tensor): feature maps.
            condition (torch.Tensor): (N, condition_dim) condition vectors.

        Returns:
            torch.Tensor: The upsampled feature maps.
        """
        h = F.relu(self.norm1(x, condition))
        h = F.interpolate(h, scale_factor=2, mode='nearest')
        h = self.conv1(h)
        h = F.relu(self.norm2(h, condition))
        h = self.conv2(h)
        skip = F.interpolate(self.shortcut(x), scale_factor=2, mode='nearest')
        return h + skip


class ResidualDownBlock(nn.Module):
    """Residual discriminator block, optionally halving the resolution.

    Main branch: [ReLU] -> 3x3 conv -> ReLU -> 3x3 conv -> [2x2 avg pool].
    Shortcut: [2x2 avg pool] -> 1x1 conv when the channels change or the
    block downsamples, identity otherwise (pooling and a 1x1 conv commute,
    so pooling first is the same map, cheaper).

    Args:
        in_channels (int): input channels.
        out_channels (int): output channels (also the hidden width: BigGAN's
            "wide" discriminator).
        downsample (bool): whether the block halves the resolution.
        preactivation (bool): whether the main branch starts with a ReLU (every
            block but a discriminator's first, which sees raw pixels).
        spectral_norm (bool): whether the convs are spectrally normalised.
        init_type (str): weight init, see
            :func:`~.sn_layers.init_layer`.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 downsample: bool = True,
                 preactivation: bool = True,
                 spectral_norm: bool = True,
                 init_type: str = 'N02') -> None:
        super().__init__()
        self.downsample = downsample
        self.preactivation = preactivation
        self.conv1 = init_layer(
            nn.Conv2d(in_channels, out_channels, 3, padding=1),
            spectral_norm, init_type, SQRT2)
        self.conv2 = init_layer(
            nn.Conv2d(out_channels, out_channels, 3, padding=1),
            spectral_norm, init_type, SQRT2)
        self.shortcut: Optional[nn.Module] = None
        if in_channels != out_channels or downsample:
            self.shortcut = init_layer(
                nn.Conv2d(in_channels, out_channels, 1), spectral_norm,
                init_type)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``x`` (N, C_in, H, W) to (N, C_out, H', W').

        Args:
            x (torch.Tensor): feature maps or images.

        Returns:
            torch.Tensor: The block's output; H' = H / 2 when downsampling,
                else H.
        """
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        skip = x
        if self.downsample:
            h = F.avg_pool2d(h, 2)
            skip = F.avg_pool2d(skip, 2)
        if self.shortcut is not None:
            skip = self.shortcut(skip)
        return h + skip


def residual_down_blocks(widths: Sequence[int], downsamples: Sequence[bool],
                         init_type: str) -> nn.Sequential:
    """A discriminator's spectrally normalised :class:`ResidualDownBlock` s.

    Args:
        widths (Sequence[int]): image channels, then each block's output.
        downsamples (Sequence[bool]): whether each block halves the size.
        init_type (str): weight init, see :func:`~.sn_layers.init_layer`.

    Returns:
        nn.Sequential: The blocks; all but the first (which sees raw
        pixels) start with a ReLU.
    """
    return nn.Sequential(*[
        ResidualDownBlock(
            widths[i],
            widths[i + 1],
            downsample=downsample,
            preactivation=i > 0,
            init_type=init_type) for i, downsample in enumerate(downsamples)
    ])


class ResidualGenerator(BaseModule):
    """A linear map of the noise to 4x4, up-blocks, then an image head.

    The trunk of the BigGAN and SNGAN (CcGAN) generators: one
    :class:`ResidualUpBlock` per doubling of the resolution, each
    conditioned on the vector :meth:`embed` makes of the labels, then
    BN -> ReLU -> 3x3 conv -> tanh. A subclass builds its label embedding,
    then calls :meth:`_build_trunk`.
    """

    bottom_width = 4

    def embed(self, labels: torch.Tensor) -> torch.Tensor:
        """The (N, condition_dim) vectors the up-blocks are conditioned on."""
        raise NotImplementedError

    def _build_trunk(self, widths: Sequence[int], condition_dim: int,
                     spectral_norm: bool, init_type: str) -> None:
        """Build the layers from ``self.noise_dim`` to ``self.img_channels``.

        Args:
            widths (Sequence[int]): channels of the 4x4 grid, then of each
                up-block's output.
            condition_dim (int): width of :meth:`embed`'s vectors.
            spectral_norm (bool): whether the layers are spectrally
                normalised.
            init_type (str): weight init, see
                :func:`~.sn_layers.init_layer`.
        """
        self.linear = init_layer(
            nn.Linear(self.noise_dim, widths[0] * self.bottom_width**2),
            spectral_norm, init_type)
        self.blocks = nn.ModuleList([
            ResidualUpBlock(widths[i], widths[i + 1], condition_dim,
                            spectral_norm, init_type)
            for i in range(len(widths) - 1)
        ])
        self.output_norm = nn.BatchNorm2d(widths[-1])
        self.output_conv = init_layer(
            nn.Conv2d(widths[-1], self.img_channels, 3, padding=1),
            spectral_norm, init_type)

    def forward(self, noise: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """Generate images.

        Args:
            noise (torch.Tensor): (N, noise_dim) latent vectors.
            labels (torch.Tensor): (N,) class indices (long) or labels in
                [0, 1] (float), as the subclass takes them.

        Returns:
            torch.Tensor: (N, img_channels, img_size, img_size) images in
                [-1, 1].
        """
        condition = self.embed(labels)
        h = self.linear(noise).view(
            noise.size(0), -1, self.bottom_width, self.bottom_width)
        for block in self.blocks:
            h = block(h, condition)
        h = F.relu(self.output_norm(h))
        return torch.tanh(self.output_conv(h))
