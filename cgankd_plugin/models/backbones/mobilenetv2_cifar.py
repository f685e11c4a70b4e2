# Copyright (c) cgankd_plugin contributors.
"""MobileNetV2 for CIFAR as in the RepDistiller zoo (``mobile_half``)."""
from functools import partial
from typing import List, Optional, Sequence, Union

import torch
from torch import nn

from ...registry import MODELS
from .base_cifar_backbone import BaseCIFARBackbone, conv_bn_relu, make_stage

# (expands, channels, blocks, first stride) per stage, from RepDistiller's
# models/mobilenetv2.py; only the first stage ignores ``expand_ratio``.
STAGE_SETTINGS = (
    (False, 16, 1, 1),
    (True, 24, 2, 1),
    (True, 32, 3, 2),
    (True, 64, 4, 2),
    (True, 96, 3, 1),
    (True, 160, 3, 2),
    (True, 320, 1, 1),
)
# Channels of the last 1x1 conv, widened only when width_mult > 1.
LAST_CHANNELS = 1280


class InvertedResidual(nn.Module):
    """1x1 expand, 3x3 depthwise, 1x1 linear projection (+ identity).

    Unlike torchvision's block, the 1x1 expansion is kept even for an
    expansion ratio of 1, as in RepDistiller.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the depthwise conv.
        expand_ratio (int): Hidden channels over input channels.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 expand_ratio: int):
        super().__init__()
        hidden = in_channels * expand_ratio
        self.use_identity = stride == 1 and in_channels == out_channels
        self.conv = nn.Sequential(
            conv_bn_relu(in_channels, hidden, 1),
            *conv_bn_relu(hidden, hidden, 3, stride, groups=hidden),
            *conv_bn_relu(hidden, out_channels, 1, relu=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block."""
        out = self.conv(x)
        return x + out if self.use_identity else out


@MODELS.register_module()
class MobileNetV2CIFAR(BaseCIFARBackbone):
    """MobileNetV2 of the CRD / RepDistiller zoo (0.5 width is its student).

    A stride-2 3x3 conv-BN-ReLU stem, then seven stages ``layer1`` to
    ``layer7`` of inverted residual blocks (strides 1, 1, 2, 2, 1, 2, 1), so
    a 32x32 input ends at 2x2. ``layer7`` ends with the final 1x1
    conv-BN-ReLU to 1280 channels (``int(1280 * width_mult)`` when
    ``width_mult > 1``). Channels are ``int(c * width_mult)``, unrounded.

    Args:
        width_mult (float): Width multiplier. Defaults to 0.5.
        expand_ratio (int): Expansion of stages 2 to 7. Defaults to 6.
        in_channels (int): Input image channels. Defaults to 3.
        out_indices (int | Sequence[int]): Stages (0 to 6) to return.
            Defaults to ``(-1, )``, the last.
        init_cfg (dict | list[dict], optional): See
            :class:`BaseCIFARBackbone`. Defaults to None.
    """

    def __init__(self,
                 width_mult: float = 0.5,
                 expand_ratio: int = 6,
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (-1, ),
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        super().__init__(init_cfg=init_cfg)
        self.width_mult = width_mult
        self.expand_ratio = expand_ratio
        channels = int(32 * width_mult)
        self.stem = conv_bn_relu(in_channels, channels, 3, stride=2)
        stage_names, stage_channels = [], []
        for index, (expands, base_channels, num_blocks,
                    stride) in enumerate(STAGE_SETTINGS):
            out_channels = int(base_channels * width_mult)
            block = partial(
                InvertedResidual,
                expand_ratio=expand_ratio if expands else 1)
            stage = make_stage(block, channels, out_channels, num_blocks,
                               stride)
            channels = out_channels
            if index == len(STAGE_SETTINGS) - 1:
                last_channels = (
                    int(LAST_CHANNELS *
                        width_mult) if width_mult > 1.0 else LAST_CHANNELS)
                stage.append(conv_bn_relu(channels, last_channels, 1))
                channels = last_channels
            name = f'layer{index + 1}'
            self.add_module(name, stage)
            stage_names.append(name)
            stage_channels.append(channels)
        self._set_stages(stage_names, stage_channels, out_indices)
