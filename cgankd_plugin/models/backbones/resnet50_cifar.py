# Copyright (c) cgankd_plugin contributors.
"""The bottleneck ResNet-50 with a CIFAR stem (RepDistiller's ResNet50)."""
from typing import List, Optional, Sequence, Union

import torch
from torch import nn

from ...registry import MODELS
from .base_cifar_backbone import (BaseCIFARBackbone, conv_bn_relu,
                                  make_stage, projection_shortcut)

# Bottleneck widths and block counts of ResNet-50 (He et al.); outputs are
# four times the widths.
STAGE_WIDTHS = (64, 128, 256, 512)
STAGE_BLOCKS = (3, 4, 6, 3)
EXPANSION = 4


class CIFARBottleneck(nn.Module):
    """1x1, 3x3 (strided) and 1x1 conv-BN layers plus a shortcut, ReLU.

    The shortcut is a strided 1x1 conv and BN where the shape changes.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels, four times those of the inner
            convs.
        stride (int): Stride of the 3x3 conv. Defaults to 1.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        width = out_channels // EXPANSION
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = projection_shortcut(in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block."""
        identity = x if self.shortcut is None else self.shortcut(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


@MODELS.register_module()
class ResNet50CIFAR(BaseCIFARBackbone):
    """ResNet-50 of the CRD / RepDistiller zoo (``resnetv2.ResNet50``).

    A 3x3 conv-BN-ReLU stem to 64 channels keeps the input size (no max
    pooling); stages ``layer1`` (stride 1) to ``layer4`` (stride 2) of 3, 4,
    6 and 3 bottlenecks give 256, 512, 1024 and 2048 channels, so a 32x32
    input ends at 4x4.

    Args:
        in_channels (int): Input image channels. Defaults to 3.
        out_indices (int | Sequence[int]): Stages (0 to 3) to return.
            Defaults to ``(-1, )``, the last.
        init_cfg (dict | list[dict], optional): See
            :class:`BaseCIFARBackbone`. Defaults to None.
    """

    def __init__(self,
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (-1, ),
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        super().__init__(init_cfg=init_cfg)
        channels = STAGE_WIDTHS[0]
        self.stem = conv_bn_relu(in_channels, channels, 3)
        stage_names, stage_channels = [], []
        for index, (width,
                    num_blocks) in enumerate(zip(STAGE_WIDTHS, STAGE_BLOCKS)):
            name = f'layer{index + 1}'
            self.add_module(
                name,
                make_stage(CIFARBottleneck, channels, width * EXPANSION,
                           num_blocks, 1 if index == 0 else 2))
            channels = width * EXPANSION
            stage_names.append(name)
            stage_channels.append(channels)
        self._set_stages(stage_names, stage_channels, out_indices)
