# Copyright (c) cgankd_plugin contributors.
"""MobileNetV2CIFAR: RepDistiller's MobileNetV2."""
import torch

from cgankd_plugin.models.backbones import MobileNetV2CIFAR


def test_stage_shapes_at_half_width():
    backbone = MobileNetV2CIFAR(width_mult=0.5, out_indices=range(7))
    outputs = backbone(torch.randn(2, 3, 32, 32))
    assert [tuple(o.shape[1:]) for o in outputs] == [(8, 16, 16), (12, 16, 16),
                                                     (16, 8, 8), (32, 4, 4),
                                                     (48, 4, 4), (80, 2, 2),
                                                     (1280, 2, 2)]
    assert backbone.out_channels == 1280


def test_last_conv_widens_above_unit_width():
    assert MobileNetV2CIFAR(width_mult=1.5).out_channels == 1920
