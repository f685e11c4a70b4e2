# Copyright (c) cgankd_plugin contributors.
"""What the CIFAR zoo shares: a stem, named stages and selected outputs."""
from typing import (Any, Callable, Dict, Hashable, List, Optional, Sequence,
                    Tuple, Union)

import torch
from mmengine.model import BaseModule
from torch import nn

# RepDistiller initialises convolutions Kaiming-normal (fan_out, ReLU) and
# BatchNorm to weight 1, bias 0; the zoo does the same unless told otherwise.
DEFAULT_INIT_CFG: List[dict] = [
    dict(type='Kaiming', layer='Conv2d', mode='fan_out', nonlinearity='relu'),
    dict(type='Constant', val=1, bias=0, layer=['_BatchNorm', 'GroupNorm']),
]


def lookup_setting(settings: Dict[Hashable, Any], key: Hashable,
                   what: str) -> Any:
    """Return ``settings[key]`` or say which keys would have been valid.

    Args:
        settings (dict): The known settings, keyed by name.
        key (Hashable): The requested name.
        what (str): What the key names, for the message (e.g. ``'arch'``).

    Returns:
        Any: The setting of ``key``.

    Raises:
        ValueError: ``key`` is not one of the known names.
    """
    if key not in settings:
        valid = ', '.join(repr(name) for name in settings)
        raise ValueError(f'Unknown {what} {key!r}; valid ones: {valid}.')
    return settings[key]


def normalize_out_indices(out_indices: Union[int, Sequence[int]],
                          num_stages: int) -> Tuple[int, ...]:
    """Turn ``out_indices`` into sorted, non-negative stage indices.

    Args:
        out_indices (int | Sequence[int]): Stage indices; negative ones
            count from the last stage.
        num_stages (int): How many stages the backbone has.

    Returns:
        tuple[int]: Distinct indices in ``[0, num_stages)``, ascending.

    Raises:
        ValueError: An index is out of range, or none is given.
    """
    if isinstance(out_indices, int):
        out_indices = (out_indices, )
    if len(out_indices) == 0:
        raise ValueError('out_indices must name at least one stage.')
    resolved = set()
    for index in out_indices:
        if not -num_stages <= index < num_stages:
            raise ValueError(
                f'out_indices entry {index} is out of range for a backbone '
                f'with {num_stages} stages.')
        resolved.add(index % num_stages)
    return tuple(sorted(resolved))


class BaseCIFARBackbone(BaseModule):
    """A stem followed by stages, returning the selected stage outputs.

    Subclasses build ``self.stem`` (a module, ``nn.Identity`` if there is
    none) and one attribute per stage, then call :meth:`_set_stages`.

    Args:
        init_cfg (dict | list[dict], optional): Initialisation config; None
            means :data:`DEFAULT_INIT_CFG` (RepDistiller's scheme), an empty
            list keeps PyTorch's defaults.
    """

    def __init__(self, init_cfg: Optional[Union[dict, List[dict]]] = None):
        if init_cfg is None:
            init_cfg = [dict(cfg) for cfg in DEFAULT_INIT_CFG]
        super().__init__(init_cfg=init_cfg)
        self.stage_names: Tuple[str, ...] = ()
        self.stage_channels: Tuple[int, ...] = ()
        self.out_indices: Tuple[int, ...] = ()
        self.out_channels = 0

    def _set_stages(self, stage_names: Sequence[str],
                    stage_channels: Sequence[int],
                    out_indices: Union[int, Sequence[int]]) -> None:
        """Record the stages in order and which of them to return.

        Args:
            stage_names (Sequence[str]): Attribute names of the stages.
            stage_channels (Sequence[int]): Output channels of each stage.
            out_indices (int | Sequence[int]): Stages whose outputs
                :meth:`forward` returns.
        """
        self.stage_names = tuple(stage_names)
        self.stage_channels = tuple(stage_channels)
        self.out_indices = normalize_out_indices(out_indices,
                                                 len(self.stage_names))
        self.out_channels = self.stage_channels[-1]

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Run the stem and the stages.

        Args:
            x (torch.Tensor): Images, shape ``(N, C, H, W)``.

        Returns:
            tuple[torch.Tensor]: The outputs of the stages in
            ``out_indices``, in stage order.
        """
        x = self.stem(x)
        outputs = []
        for index, name in enumerate(self.stage_names):
            x = getattr(self, name)(x)
            if index in self.out_indices:
                outputs.append(x)
        return tuple(outputs)


def conv_bn_relu(in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int = 1,
                 groups: int = 1,
                 relu: bool = True) -> nn.Sequential:
    """A bias-free convolution, BatchNorm and ReLU (padding keeps size).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Square kernel size (odd).
        stride (int): Stride. Defaults to 1.
        groups (int): Groups of the convolution. Defaults to 1.
        relu (bool): Whether the ReLU is there. Defaults to True.

    Returns:
        nn.Sequential: The layers.
    """
    layers = [
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            groups=groups,
            bias=False),
        nn.BatchNorm2d(out_channels)
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def projection_shortcut(in_channels: int, out_channels: int,
                        stride: int) -> Optional[nn.Module]:
    """A strided 1x1 conv and BN where the shape changes, else None.

    Args:
        in_channels (int): Input channels of the block.
        out_channels (int): Output channels of the block.
        stride (int): Stride of the block.

    Returns:
        nn.Module, optional: The shortcut; None for the identity.
    """
    if stride == 1 and in_channels == out_channels:
        return None
    return conv_bn_relu(in_channels, out_channels, 1, stride, relu=False)


def make_stage(block: Callable[[int, int, int], nn.Module], in_channels: int,
               out_channels: int, num_blocks: int,
               stride: int) -> nn.Sequential:
    """Stack ``block(in, out, stride)`` s; the first carries the stride.

    Args:
        block (Callable): Builds a block from its input channels, output
            channels and stride.
        in_channels (int): Input channels of the stage.
        out_channels (int): Output channels of every block.
        num_blocks (int): Number of blocks.
        stride (int): Stride of the first block.

    Returns:
        nn.Sequential: The stage.
    """
    return nn.Sequential(*[
        block(in_channels if index == 0 else out_channels, out_channels,
              stride if index == 0 else 1) for index in range(num_blocks)
    ])
