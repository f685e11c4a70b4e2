# Copyright (c) cgankd_plugin contributors.
"""VGGCIFAR: VGG-BN without its FC layers."""
import pytest
import torch

from cgankd_plugin.models.backbones import VGGCIFAR


def test_all_five_stages():
    backbone = VGGCIFAR(arch='vgg8', out_indices=(0, 1, 2, 3, 4))
    outputs = backbone(torch.randn(2, 3, 32, 32))
    assert [tuple(o.shape) for o in outputs] == [(2, 64, 32, 32),
                                                 (2, 128, 16, 16),
                                                 (2, 256, 8, 8),
                                                 (2, 512, 4, 4),
                                                 (2, 512, 4, 4)]
    assert backbone.out_channels == 512


def test_64_pixel_input_is_pooled_before_the_last_stage():
    outputs = VGGCIFAR(arch='vgg8')(torch.randn(1, 3, 64, 64))
    assert outputs[0].shape == (1, 512, 4, 4)


def test_conv_counts_follow_arch():
    for arch, convs in [('vgg11', 8), ('vgg16', 13), ('vgg19', 16)]:
        backbone = VGGCIFAR(arch=arch)
        count = sum(isinstance(m, torch.nn.Conv2d) for m in backbone.modules())
        assert count == convs, arch


def test_unknown_arch_raises():
    with pytest.raises(ValueError, match=r"'vgg10'.*'vgg8'"):
        VGGCIFAR(arch='vgg10')
