# Copyright (c) cgankd_plugin contributors.
"""ShuffleNetV2 for CIFAR as in the RepDistiller zoo (``ShuffleV2``)."""
from typing import List, Optional, Sequence, Union

import torch
from mmpretrain.models.utils import channel_shuffle
from torch import nn

from ...registry import MODELS
from .base_cifar_backbone import (BaseCIFARBackbone, conv_bn_relu,
                                  lookup_setting)

# net_size -> ((stage 1, 2, 3 channels, last conv channels), blocks per
# stage after each stage's downsampling block), from RepDistiller's
# models/ShuffleNetv2.py.
NET_SIZE_SETTINGS = {
    0.2: ((40, 80, 160, 512), (3, 3, 3)),
    0.3: ((40, 80, 160, 512), (3, 7, 3)),
    0.5: ((48, 96, 192, 1024), (3, 7, 3)),
    1.0: ((116, 232, 464, 1024), (3, 7, 3)),
    1.5: ((176, 352, 704, 1024), (3, 7, 3)),
    2.0: ((224, 488, 976, 2048), (3, 7, 3)),
}
STEM_CHANNELS = 24


class ShuffleUnitV2(nn.Module):
    """Keep half the channels, transform the other half, concat, shuffle.

    The transformed half goes through 1x1 conv-BN-ReLU, depthwise 3x3
    conv-BN and 1x1 conv-BN-ReLU.

    Args:
        channels (int): Input and output channels (even).
    """

    def __init__(self, channels: int):
        super().__init__()
        half = channels // 2
        self.branch = nn.Sequential(
            conv_bn_relu(half, half, 1),
            conv_bn_relu(half, half, 3, groups=half, relu=False),
            conv_bn_relu(half, half, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the unit."""
        kept, transformed = x.chunk(2, dim=1)
        out = torch.cat([kept, self.branch(transformed)], dim=1)
        return channel_shuffle(out, 2)


class DownsampleUnitV2(nn.Module):
    """Two stride-2 branches over the whole input, concatenated, shuffled.

    One branch is depthwise 3x3 conv-BN then 1x1 conv-BN-ReLU; the other is
    1x1 conv-BN-ReLU, depthwise 3x3 conv-BN, 1x1 conv-BN-ReLU. Each makes
    half the output channels.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels (even).
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        half = out_channels // 2
        self.input_branch = nn.Sequential(
            conv_bn_relu(
                in_channels, in_channels, 3, 2, groups=in_channels,
                relu=False),
            conv_bn_relu(in_channels, half, 1))
        self.bottleneck_branch = nn.Sequential(
            conv_bn_relu(in_channels, half, 1),
            conv_bn_relu(half, half, 3, 2, groups=half, relu=False),
            conv_bn_relu(half, half, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the unit."""
        out = torch.cat([self.input_branch(x),
                         self.bottleneck_branch(x)],
                        dim=1)
        return channel_shuffle(out, 2)


@MODELS.register_module()
class ShuffleNetV2CIFAR(BaseCIFARBackbone):
    """ShuffleNetV2 of the CRD / RepDistiller zoo.

    A 1x1 conv-BN-ReLU stem to 24 channels keeps the input size; stages
    ``layer1`` to ``layer3`` each start with a stride-2 downsampling unit,
    so a 32x32 input ends at 4x4. ``layer3`` ends with the network's last
    1x1 conv-BN-ReLU (to 1024 channels for ``net_size=1``).

    Args:
        net_size (float): One of 0.2, 0.3, 0.5, 1, 1.5, 2. Defaults to 1.
        in_channels (int): Input image channels. Defaults to 3.
        out_indices (int | Sequence[int]): Stages (0 to 2) to return.
            Defaults to ``(-1, )``, the last.
        init_cfg (dict | list[dict], optional): See
            :class:`BaseCIFARBackbone`. Defaults to None.
    """

    def __init__(self,
                 net_size: float = 1.0,
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (-1, ),
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        super().__init__(init_cfg=init_cfg)
        widths, stage_blocks = lookup_setting(NET_SIZE_SETTINGS, net_size,
                                              'net_size')
        self.net_size = net_size
        self.stem = conv_bn_relu(in_channels, STEM_CHANNELS, 1)
        channels = STEM_CHANNELS
        stage_names = []
        for index, num_units in enumerate(stage_blocks):
            width = widths[index]
            units: List[nn.Module] = [DownsampleUnitV2(channels, width)]
            units += [ShuffleUnitV2(width) for _ in range(num_units)]
            channels = width
            name = f'layer{index + 1}'
            self.add_module(name, nn.Sequential(*units))
            stage_names.append(name)
        self.layer3.append(conv_bn_relu(channels, widths[3], 1))
        self._set_stages(stage_names, (*widths[:2], widths[3]), out_indices)
