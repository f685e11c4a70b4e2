# Copyright (c) cgankd_plugin contributors.
"""ShuffleNetV1 for CIFAR as in the RepDistiller zoo (``ShuffleV1``)."""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmpretrain.models.utils import channel_shuffle
from torch import nn

from ...registry import MODELS
from .base_cifar_backbone import (BaseCIFARBackbone, conv_bn_relu,
                                  lookup_setting)

# Stage output channels per number of groups: 3 from RepDistiller's
# models/ShuffleNetv1.py, 2 from kuangliu/pytorch-cifar's ShuffleNetG2.
STAGE_CHANNELS = {
    2: (200, 400, 800),
    3: (240, 480, 960),
}
# Blocks per stage (both sources).
STAGE_BLOCKS = (4, 8, 4)
STEM_CHANNELS = 24


class ShuffleUnitV1(nn.Module):
    """Grouped 1x1, shuffle, depthwise 3x3, grouped 1x1, then a shortcut.

    With stride 1 the branch is added to the input; with stride 2 it is
    concatenated with the input average-pooled (3x3, stride 2), so the
    branch makes ``out_channels - in_channels`` channels. ReLU follows.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): 1 or 2.
        groups (int): Groups of the 1x1 convs.
        first_groups (int): Groups of the first 1x1 conv (1 where the
            input is too narrow to split, i.e. right after the stem).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 groups: int, first_groups: int):
        super().__init__()
        self.stride = stride
        self.first_groups = first_groups
        branch_channels = (
            out_channels - in_channels if stride == 2 else out_channels)
        mid_channels = branch_channels // 4
        self.conv1 = nn.Conv2d(
            in_channels, mid_channels, 1, groups=first_groups, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_channels)
        self.conv2 = nn.Conv2d(
            mid_channels,
            mid_channels,
            3,
            stride,
            padding=1,
            groups=mid_channels,
            bias=False)
        self.bn2 = nn.BatchNorm2d(mid_channels)
        self.conv3 = nn.Conv2d(
            mid_channels, branch_channels, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(branch_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the unit."""
        out = F.relu(self.bn1(self.conv1(x)))
        out = channel_shuffle(out, self.first_groups)
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.stride == 2:
            pooled = F.avg_pool2d(x, 3, stride=2, padding=1)
            return F.relu(torch.cat([out, pooled], dim=1))
        return F.relu(out + x)


@MODELS.register_module()
class ShuffleNetV1CIFAR(BaseCIFARBackbone):
    """ShuffleNetV1 of the CRD / RepDistiller zoo.

    A 1x1 conv-BN-ReLU stem to 24 channels keeps the input size; stages
    ``layer1`` to ``layer3`` of 4, 8 and 4 units each start with a stride-2
    unit, so a 32x32 input ends at 4x4.

    Args:
        groups (int): Groups of the 1x1 convs: 3 (RepDistiller, 960 output
            channels) or 2 (800). Defaults to 3.
        in_channels (int): Input image channels. Defaults to 3.
        out_indices (int | Sequence[int]): Stages (0 to 2) to return.
            Defaults to ``(-1, )``, the last.
        init_cfg (dict | list[dict], optional): See
            :class:`BaseCIFARBackbone`. Defaults to None.
    """

    def __init__(self,
                 groups: int = 3,
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (-1, ),
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        super().__init__(init_cfg=init_cfg)
        widths = lookup_setting(STAGE_CHANNELS, groups, 'groups')
        self.groups = groups
        self.stem = conv_bn_relu(in_channels, STEM_CHANNELS, 1)
        channels = STEM_CHANNELS
        stage_names = []
        for index, (width, num_units) in enumerate(zip(widths, STAGE_BLOCKS)):
            units: List[nn.Module] = []
            for unit_index in range(num_units):
                first_groups = 1 if channels == STEM_CHANNELS else groups
                units.append(
                    ShuffleUnitV1(channels, width, 2 if unit_index == 0 else 1,
                                  groups, first_groups))
                channels = width
            name = f'layer{index + 1}'
            self.add_module(name, nn.Sequential(*units))
            stage_names.append(name)
        self._set_stages(stage_names, widths, out_indices)
