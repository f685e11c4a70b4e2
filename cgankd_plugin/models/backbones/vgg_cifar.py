# Copyright (c) cgankd_plugin contributors.
"""VGG with batch norm for CIFAR (vgg8 ... vgg19), without the FC layers."""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import nn

from ...registry import MODELS
from .base_cifar_backbone import BaseCIFARBackbone, lookup_setting

# Conv widths of the five stages, from RepDistiller's models/vgg.py
# (configurations 'S', 'A', 'B', 'D' and 'E').
ARCH_SETTINGS = {
    'vgg8': ((64, ), (128, ), (256, ), (512, ), (512, )),
    'vgg11': ((64, ), (128, ), (256, 256), (512, 512), (512, 512)),
    'vgg13': ((64, 64), (128, 128), (256, 256), (512, 512), (512, 512)),
    'vgg16': ((64, 64), (128, 128), (256, ) * 3, (512, ) * 3, (512, ) * 3),
    'vgg19': ((64, 64), (128, 128), (256, ) * 4, (512, ) * 4, (512, ) * 4),
}


class MaxPoolAboveSize(nn.Module):
    """2x2 max pooling applied only to maps larger than ``min_size``.

    Args:
        min_size (int): Maps of this height or smaller pass unchanged.
    """

    def __init__(self, min_size: int):
        super().__init__()
        self.min_size = min_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pool ``x`` if it is larger than ``min_size``."""
        if x.shape[-1] > self.min_size:
            return F.max_pool2d(x, kernel_size=2, stride=2)
        return x


def make_vgg_stage(in_channels: int, widths: Sequence[int],
                   pool: Optional[nn.Module]) -> nn.Sequential:
    """An optional pooling layer, then conv(3x3, bias)-BN-ReLU per width.

    Args:
        in_channels (int): Input channels.
        widths (Sequence[int]): Output channels of each conv.
        pool (nn.Module, optional): Applied first, if given.

    Returns:
        nn.Sequential: The stage.
    """
    layers: List[nn.Module] = [] if pool is None else [pool]
    for width in widths:
        layers += [
            nn.Conv2d(in_channels, width, 3, padding=1),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True)
        ]
        in_channels = width
    return nn.Sequential(*layers)


@MODELS.register_module()
class VGGCIFAR(BaseCIFARBackbone):
    """VGG-BN of the CRD / RepDistiller zoo, as five stages.

    Stages ``layer1`` to ``layer5`` are stacks of conv-BN-ReLU; ``layer2``
    to ``layer4`` start with 2x2 max pooling, so a 32x32 input reaches
    ``layer4`` at 4x4. ``layer5`` pools only a map larger than 4x4, which
    reproduces RepDistiller's extra pooling of 64x64 inputs. There is no
    stem (``stem`` is an identity); RepDistiller's classifier, a single
    ``Linear(512, num_classes)`` on the pooled features, is the head's job.

    Args:
        arch (str): One of ``'vgg8'``, ``'vgg11'``, ``'vgg13'``,
            ``'vgg16'``, ``'vgg19'``. Defaults to ``'vgg8'``.
        in_channels (int): Input image channels. Defaults to 3.
        out_indices (int | Sequence[int]): Stages (0 to 4) to return.
            Defaults to ``(-1, )``, the last.
        init_cfg (dict | list[dict], optional): See
            :class:`BaseCIFARBackbone`. Defaults to None.
    """

    def __init__(self,
                 arch: str = 'vgg8',
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (-1, ),
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        super().__init__(init_cfg=init_cfg)
        stage_widths = lookup_setting(ARCH_SETTINGS, arch, 'arch')
        self.arch = arch
        self.stem = nn.Identity()
        pools = [
            None,
            nn.MaxPool2d(2, 2),
            nn.MaxPool2d(2, 2),
            nn.MaxPool2d(2, 2),
            MaxPoolAboveSize(4)
        ]
        stage_names = []
        for index, (widths, pool) in enumerate(zip(stage_widths, pools)):
            name = f'layer{index + 1}'
            self.add_module(name, make_vgg_stage(in_channels, widths, pool))
            stage_names.append(name)
            in_channels = widths[-1]
        self._set_stages(stage_names, [widths[-1] for widths in stage_widths],
                         out_indices)
