# Copyright (c) cgankd_plugin contributors.
"""Residual up- (generator) and down- (discriminator) blocks.

Both follow the BigGAN / SNGAN layout; the only differences between the
two papers' blocks (spectral norm in G, the init, the widths) are
arguments here.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .conditional_batch_norm import ConditionalBatchNorm2d
from .sn_layers import SQRT2, make_conv2d


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
            :func:`~.sn_layers.init_layer_weight`.
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
        self.conv1 = make_conv2d(
            in_channels,
            out_channels,
            spectral_norm=spectral_norm,
            init_type=init_type,
            gain=SQRT2)
        self.norm2 = ConditionalBatchNorm2d(out_channels, condition_dim,
                                            spectral_norm, init_type)
        self.conv2 = make_conv2d(
            out_channels,
            out_channels,
            spectral_norm=spectral_norm,
            init_type=init_type,
            gain=SQRT2)
        self.shortcut = make_conv2d(
            in_channels,
            out_channels,
            kernel_size=1,
            spectral_norm=spectral_norm,
            init_type=init_type)

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
            :func:`~.sn_layers.init_layer_weight`.
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
        self.conv1 = make_conv2d(
            in_channels,
            out_channels,
            spectral_norm=spectral_norm,
            init_type=init_type,
            gain=SQRT2)
        self.conv2 = make_conv2d(
            out_channels,
            out_channels,
            spectral_norm=spectral_norm,
            init_type=init_type,
            gain=SQRT2)
        self.shortcut: Optional[nn.Module] = None
        if in_channels != out_channels or downsample:
            self.shortcut = make_conv2d(
                in_channels,
                out_channels,
                kernel_size=1,
                spectral_norm=spectral_norm,
                init_type=init_type)

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
