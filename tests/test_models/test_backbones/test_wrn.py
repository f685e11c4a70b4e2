# Copyright (c) cgankd_plugin contributors.
"""WRN: wide residual networks."""
import pytest
import torch

from cgankd_plugin.models.backbones import WRN


def test_stage_shapes_and_final_activation():
    backbone = WRN(depth=16, widen_factor=2, out_indices=(0, 1, 2))
    outputs = backbone(torch.randn(2, 3, 32, 32))
    assert [tuple(o.shape) for o in outputs] == [(2, 32, 32, 32),
                                                 (2, 64, 16, 16),
                                                 (2, 128, 8, 8)]
    assert backbone.out_channels == 128
    # layer3 ends with the network's final BN and ReLU.
    assert outputs[2].min() >= 0


def test_depth_sets_blocks_per_stage():
    assert len(WRN(depth=40, widen_factor=1).layer1) == 6


@pytest.mark.parametrize('depth', [15, 4])
def test_invalid_depth_raises(depth):
    with pytest.raises(ValueError, match=str(depth)):
        WRN(depth=depth)
