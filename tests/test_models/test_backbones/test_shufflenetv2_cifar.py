# Copyright (c) cgankd_plugin contributors.
"""ShuffleNetV2CIFAR: RepDistiller's ShuffleV2."""
import pytest
import torch

from cgankd_plugin.models.backbones import ShuffleNetV2CIFAR


def test_stage_shapes():
    backbone = ShuffleNetV2CIFAR(net_size=1, out_indices=(0, 1, 2))
    outputs = backbone(torch.randn(2, 3, 32, 32))
    assert [tuple(o.shape) for o in outputs] == [(2, 116, 16, 16),
                                                 (2, 232, 8, 8),
                                                 (2, 1024, 4, 4)]
    assert backbone.out_channels == 1024


def test_small_net_size():
    outputs = ShuffleNetV2CIFAR(net_size=0.5)(torch.randn(1, 3, 32, 32))
    assert outputs[0].shape == (1, 1024, 4, 4)


def test_unknown_net_size_raises():
    with pytest.raises(ValueError, match=r'net_size 0\.7.*1\.0'):
        ShuffleNetV2CIFAR(net_size=0.7)
