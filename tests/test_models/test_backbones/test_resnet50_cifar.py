# Copyright (c) cgankd_plugin contributors.
"""ResNet50CIFAR: bottleneck ResNet-50 with the CIFAR stem."""
import torch

from cgankd_plugin.models.backbones import ResNet50CIFAR


def test_stage_shapes():
    backbone = ResNet50CIFAR(out_indices=(0, 1, 2, 3))
    with torch.no_grad():
        outputs = backbone(torch.randn(2, 3, 32, 32))
    assert [tuple(o.shape) for o in outputs] == [(2, 256, 32, 32),
                                                 (2, 512, 16, 16),
                                                 (2, 1024, 8, 8),
                                                 (2, 2048, 4, 4)]
    assert backbone.out_channels == 2048
