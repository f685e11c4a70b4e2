# Copyright (c) cgankd_plugin contributors.
"""ResNetCIFAR: the basic-block CIFAR ResNets."""
import pytest
import torch

from cgankd_plugin.models.backbones import ResNetCIFAR
from cgankd_plugin.models.backbones.resnet_cifar import ARCH_SETTINGS


@pytest.mark.parametrize('arch, channels', [('resnet8', 64),
                                            ('resnet8x4', 256)])
def test_last_stage_shape(arch, channels):
    backbone = ResNetCIFAR(arch=arch)
    outputs = backbone(torch.randn(2, 3, 32, 32))
    assert backbone.out_channels == channels
    assert len(outputs) == 1
    assert outputs[0].shape == (2, channels, 8, 8)


def test_out_indices_select_several_stages():
    backbone = ResNetCIFAR(arch='resnet8x4', out_indices=(0, 1, 2))
    outputs = backbone(torch.randn(2, 3, 32, 32))
    assert [tuple(o.shape) for o in outputs] == [(2, 64, 32, 32),
                                                 (2, 128, 16, 16),
                                                 (2, 256, 8, 8)]
    assert backbone.stage_channels == (64, 128, 256)


def test_block_counts_follow_depth():
    for arch, (depth, _) in ARCH_SETTINGS.items():
        backbone = ResNetCIFAR(arch=arch)
        assert len(backbone.layer3) == (depth - 2) // 6, arch


def test_unknown_arch_names_it_and_the_valid_ones():
    with pytest.raises(ValueError, match=r"'resnet9'.*'resnet8x4'"):
        ResNetCIFAR(arch='resnet9')


def test_backward_reaches_the_stem():
    backbone = ResNetCIFAR(arch='resnet8', out_indices=(1, 2))
    loss = sum(o.mean() for o in backbone(torch.randn(2, 3, 32, 32)))
    loss.backward()
    assert backbone.stem[0].weight.grad is not None
    assert backbone.stem[0].weight.grad.abs().sum() > 0
