# Copyright (c) cgankd_plugin contributors.
"""Wide residual networks for CIFAR (wrn_16_2, wrn_40_2, ...)."""
from functools import partial
from typing import List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import nn

from ...registry import MODELS
from .base_cifar_backbone import BaseCIFARBackbone, make_stage


class WideBasicBlock(nn.Module):
    """A pre-activation block: (BN, ReLU, 3x3 conv) twice plus a shortcut.

    Where the channels change, the shortcut is a strided 1x1 conv of the
    pre-activated input; otherwise it is the raw input.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the first conv.
        drop_rate (float): Dropout probability between the convs.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int,
                 drop_rate: float = 0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, 3, padding=1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.drop_rate = drop_rate
        self.shortcut: Optional[nn.Module] = None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Conv2d(
                in_channels, out_channels, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block."""
        activated = self.relu(self.bn1(x))
        identity = x if self.shortcut is None else self.shortcut(activated)
        out = self.relu(self.bn2(self.conv1(activated)))
        if self.drop_rate > 0:
            out = F.dropout(out, p=self.drop_rate, training=self.training)
        return self.conv2(out) + identity


@MODELS.register_module()
class WRN(BaseCIFARBackbone):
    """Wide ResNet (Zagoruyko and Komodakis) as in the RepDistiller zoo.

    A plain 3x3 conv stem to 16 channels, then stages ``layer1`` (stride 1),
    ``layer2`` and ``layer3`` (stride 2) of ``(depth - 4) / 6`` pre-activation
    blocks each, of widths 16, 32 and 64 times ``widen_factor``. ``layer3``
    ends with the network's final BN and ReLU, so its output is what the
    classifier pools.

    Args:
        depth (int): Total depth, ``6 * n + 4`` (16 and 40 in the zoo).
            Defaults to 16.
        widen_factor (int): Width multiplier. Defaults to 2.
        in_channels (int): Input image channels. Defaults to 3.
        drop_rate (float): Dropout inside blocks. Defaults to 0.
        out_indices (int | Sequence[int]): Stages (0 to 2) to return.
            Defaults to ``(-1, )``, the last.
        init_cfg (dict | list[dict], optional): See
            :class:`BaseCIFARBackbone`. Defaults to None.
    """

    def __init__(self,
                 depth: int = 16,
                 widen_factor: int = 2,
                 in_channels: int = 3,
                 drop_rate: float = 0.0,
                 out_indices: Union[int, Sequence[int]] = (-1, ),
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        super().__init__(init_cfg=init_cfg)
        if depth < 10 or (depth - 4) % 6 != 0:
            raise ValueError(
                f'WRN depth must be 6 * n + 4 with n >= 1, got {depth}.')
        self.depth = depth
        self.widen_factor = widen_factor
        blocks_per_stage = (depth - 4) // 6
        widths = [16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        self.stem = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        block = partial(WideBasicBlock, drop_rate=drop_rate)
        self.layer1 = make_stage(block, 16, widths[0], blocks_per_stage, 1)
        self.layer2 = make_stage(block, widths[0], widths[1],
                                 blocks_per_stage, 2)
        self.layer3 = make_stage(block, widths[1], widths[2],
                                 blocks_per_stage, 2)
        self.layer3.extend([nn.BatchNorm2d(widths[2]), nn.ReLU(inplace=True)])
        self._set_stages(('layer1', 'layer2', 'layer3'), widths, out_indices)
