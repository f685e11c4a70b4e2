# Copyright (c) cgankd_plugin contributors.
"""The CIFAR ResNets of basic blocks (resnet8 ... resnet110, x4 variants)."""
from typing import List, Optional, Sequence, Union

import torch
from torch import nn

from ...registry import MODELS
from .base_cifar_backbone import (BaseCIFARBackbone, conv_bn_relu,
                                  lookup_setting, make_stage,
                                  projection_shortcut)

# (depth, (stem, stage 1, stage 2, stage 3) widths), from RepDistiller's
# models/resnet.py; depth = 6 * blocks_per_stage + 2.
NARROW_WIDTHS = (16, 16, 32, 64)
WIDE_WIDTHS = (32, 64, 128, 256)
ARCH_SETTINGS = {
    'resnet8': (8, NARROW_WIDTHS),
    'resnet14': (14, NARROW_WIDTHS),
    'resnet20': (20, NARROW_WIDTHS),
    'resnet32': (32, NARROW_WIDTHS),
    'resnet44': (44, NARROW_WIDTHS),
    'resnet56': (56, NARROW_WIDTHS),
    'resnet110': (110, NARROW_WIDTHS),
    'resnet8x4': (8, WIDE_WIDTHS),
    'resnet32x4': (32, WIDE_WIDTHS),
}


class CIFARBasicBlock(nn.Module):
    """Two 3x3 conv-BN layers plus a shortcut, then ReLU.

    The shortcut is a strided 1x1 conv and BN where the shape changes.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the first conv. Defaults to 1.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = projection_shortcut(in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block."""
        identity = x if self.shortcut is None else self.shortcut(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


@MODELS.register_module()
class ResNetCIFAR(BaseCIFARBackbone):
    """The CIFAR ResNets of the CRD / RepDistiller zoo.

    A 3x3 conv-BN-ReLU stem keeps the input size, then stages ``layer1``
    (stride 1), ``layer2`` and ``layer3`` (stride 2) of basic blocks. Widths
    are 16, 16, 32, 64 (stem, stages), and 32, 64, 128, 256 for the ``x4``
    variants.

    Args:
        arch (str): One of ``'resnet8'``, ``'resnet14'``, ``'resnet20'``,
            ``'resnet32'``, ``'resnet44'``, ``'resnet56'``, ``'resnet110'``,
            ``'resnet8x4'``, ``'resnet32x4'``. Defaults to ``'resnet8x4'``.
        in_channels (int): Input image channels. Defaults to 3.
        out_indices (int | Sequence[int]): Stages (0 to 2) to return.
            Defaults to ``(-1, )``, the last.
        init_cfg (dict | list[dict], optional): See
            :class:`BaseCIFARBackbone`. Defaults to None.
    """

    def __init__(self,
                 arch: str = 'resnet8x4',
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (-1, ),
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        super().__init__(init_cfg=init_cfg)
        depth, widths = lookup_setting(ARCH_SETTINGS, arch, 'arch')
        self.arch = arch
        blocks_per_stage = (depth - 2) // 6
        self.stem = conv_bn_relu(in_channels, widths[0], 3)
        for index, stride in enumerate((1, 2, 2)):
            self.add_module(
                f'layer{index + 1}',
                make_stage(CIFARBasicBlock, widths[index], widths[index + 1],
                           blocks_per_stage, stride))
        self._set_stages(('layer1', 'layer2', 'layer3'), widths[1:],
                         out_indices)
