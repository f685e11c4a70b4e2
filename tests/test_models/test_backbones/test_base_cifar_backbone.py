# Copyright (c) cgankd_plugin contributors.
"""The helpers and defaults shared by the CIFAR zoo."""
import pytest
import torch

from cgankd_plugin.models.backbones import ResNetCIFAR
from cgankd_plugin.models.backbones.base_cifar_backbone import (
    DEFAULT_INIT_CFG, lookup_setting, normalize_out_indices)


def test_normalize_out_indices_sorts_and_resolves_negatives():
    assert normalize_out_indices(-1, 3) == (2, )
    assert normalize_out_indices((2, 0, -3), 3) == (0, 2)


@pytest.mark.parametrize('out_indices', [(3, ), (-4, ), ()])
def test_normalize_out_indices_rejects_bad_entries(out_indices):
    with pytest.raises(ValueError):
        normalize_out_indices(out_indices, 3)


def test_lookup_setting_names_key_and_valid_ones():
    with pytest.raises(ValueError, match=r"'b'.*'a', 'c'"):
        lookup_setting({'a': 1, 'c': 2}, 'b', 'arch')


def test_default_init_cfg_is_repdistillers_and_runs():
    backbone = ResNetCIFAR(arch='resnet8')
    assert backbone.init_cfg == DEFAULT_INIT_CFG
    backbone.init_weights()
    conv = backbone.stem[0]
    # Kaiming-normal, fan_out: std = sqrt(2 / (out_channels * 3 * 3)).
    expected_std = (2 / (conv.out_channels * 9))**0.5
    assert conv.weight.std().item() == pytest.approx(expected_std, rel=0.5)
    assert torch.all(backbone.stem[1].weight == 1)


def test_empty_init_cfg_keeps_pytorch_defaults():
    assert ResNetCIFAR(arch='resnet8', init_cfg=[]).init_cfg == []
