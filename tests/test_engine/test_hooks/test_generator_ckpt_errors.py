# Copyright (c) cgankd_plugin contributors.
"""A generator checkpoint that does not fit the data is a named error."""
import pytest
import torch

from cgankd_plugin.registry import MODELS
from cgankd_plugin.utils.checkpoint import (CheckpointError,
                                            load_weights_strictly)


def _gan(num_classes=10, img_size=32):
    return MODELS.build(
        dict(
            type='ClassConditionalGAN',
            num_classes=num_classes,
            img_size=img_size,
            noise_dim=8,
            generator=dict(type='BigGANGenerator', base_channels=4),
            discriminator=dict(
                type='ProjectionDiscriminator', base_channels=4)))


@pytest.mark.parametrize('other', [dict(num_classes=7), dict(img_size=64)])
def test_generator_ckpt_of_another_cgan_names_the_field(tmp_path, other):
    path = str(tmp_path / 'gan.pth')
    torch.save(_gan(**other).state_dict(), path)
    with pytest.raises(CheckpointError) as err:
        load_weights_strictly(_gan(), path, 'CGANHook.generator_ckpt')
    message = str(err.value)
    assert 'CGANHook.generator_ckpt' in message and path in message
    assert 'shape' in message or 'keys' in message


def test_generator_ckpt_that_fits_loads(tmp_path):
    source = _gan()
    path = str(tmp_path / 'gan.pth')
    torch.save(source.state_dict(), path)
    target = _gan()
    load_weights_strictly(target, path, 'CGANHook.generator_ckpt')
    for name, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[name], value), name


def test_check_compatible_names_the_field():
    with pytest.raises(ValueError, match='num_classes'):
        _gan(num_classes=10).check_compatible(num_classes=100)
