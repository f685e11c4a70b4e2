# Copyright (c) cgankd_plugin contributors.
"""ShuffleNetV1CIFAR: RepDistiller's ShuffleV1."""
import pytest
import torch

from cgankd_plugin.models.backbones import ShuffleNetV1CIFAR


@pytest.mark.parametrize('groups, widths', [(3, (240, 480, 960)),
                                            (2, (200, 400, 800))])
def test_stage_shapes(groups, widths):
    backbone = ShuffleNetV1CIFAR(groups=groups, out_indices=(0, 1, 2))
    outputs = backbone(torch.randn(2, 3, 32, 32))
    assert [tuple(o.shape) for o in outputs] == [(2, widths[0], 16, 16),
                                                 (2, widths[1], 8, 8),
                                                 (2, widths[2], 4, 4)]
    assert backbone.out_channels == widths[2]


def test_unknown_groups_raise():
    with pytest.raises(ValueError, match='groups 5'):
        ShuffleNetV1CIFAR(groups=5)
