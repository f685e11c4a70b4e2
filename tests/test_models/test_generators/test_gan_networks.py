# Copyright (c) cgankd_plugin contributors.
"""Shapes, conditioning and spectral norm of the generators and critics."""
import pytest
import torch
import torch.nn as nn

from cgankd_plugin.models.generators import (BigGANGenerator,
                                             CcGANDiscriminator,
                                             CcGANGenerator,
                                             ProjectionDiscriminator,
                                             has_spectral_norm)
from cgankd_plugin.models.generators.sn_layers import init_layer
from cgankd_plugin.registry import MODELS


@pytest.mark.parametrize('img_size', [32, 64])
def test_biggan_generator_shape_and_range(img_size):
    torch.manual_seed(0)
    generator = BigGANGenerator(
        num_classes=3,
        noise_dim=20,
        img_size=img_size,
        base_channels=8,
        shared_dim=8)
    images = generator(torch.randn(4, 20), torch.tensor([0, 1, 2, 0]))
    assert images.shape == (4, 3, img_size, img_size)
    assert images.min() >= -1 and images.max() <= 1
    # 32 px: 3 up-blocks from 4x4; 64 px: 4
    assert len(generator.blocks) == {32: 3, 64: 4}[img_size]


def test_biggan_generator_rejects_unknown_resolution():
    with pytest.raises(ValueError, match='img_size'):
        BigGANGenerator(num_classes=3, img_size=48, base_channels=8)


@pytest.mark.parametrize('img_size', [32, 64])
def test_ccgan_generator_shape_and_range(img_size):
    torch.manual_seed(0)
    generator = CcGANGenerator(
        noise_dim=16, img_size=img_size, base_channels=8, label_embed_dim=16)
    images = generator(torch.randn(4, 16), torch.rand(4))
    assert images.shape == (4, 3, img_size, img_size)
    assert images.min() >= -1 and images.max() <= 1


def _halves_differ(generator, noise, labels_a, labels_b):
    """Generate the same noise at two label sets in one batch."""
    images = generator(noise.repeat(2, 1), torch.cat([labels_a, labels_b]))
    first, second = images.chunk(2)
    return (first - second).abs().amax(dim=(1, 2, 3))


def test_biggan_conditional_bn_uses_the_class():
    torch.manual_seed(0)
    generator = BigGANGenerator(
        num_classes=4, noise_dim=16, base_channels=8, shared_dim=8)
    noise = torch.randn(4, 16)
    same = _halves_differ(generator, noise, torch.tensor([1, 1, 2, 3]),
                          torch.tensor([1, 1, 2, 3]))
    other = _halves_differ(generator, noise, torch.tensor([0, 1, 2, 3]),
                           torch.tensor([3, 2, 1, 0]))
    assert torch.all(same == 0)
    assert torch.all(other > 1e-4)


def test_ccgan_conditional_bn_uses_the_label():
    torch.manual_seed(0)
    generator = CcGANGenerator(
        noise_dim=16, img_size=32, base_channels=8, label_embed_dim=16)
    noise = torch.randn(3, 16)
    other = _halves_differ(generator, noise, torch.tensor([0.0, 0.2, 0.4]),
                           torch.tensor([1.0, 0.8, 0.6]))
    assert torch.all(other > 1e-4)


def test_projection_discriminator_scores_depend_on_class():
    torch.manual_seed(0)
    critic = ProjectionDiscriminator(num_classes=4, base_channels=8)
    images = torch.randn(2, 3, 32, 32)
    scores_a = critic(images, torch.tensor([0, 1]))
    scores_b = critic(images, torch.tensor([2, 3]))
    assert scores_a.shape == (2, )
    assert not torch.allclose(scores_a, scores_b)


@pytest.mark.parametrize('img_size', [32, 64])
def test_ccgan_discriminator_shape_and_label_dependence(img_size):
    torch.manual_seed(0)
    critic = CcGANDiscriminator(
        img_size=img_size, base_channels=8, label_embed_dim=16)
    images = torch.randn(2, 3, img_size, img_size)
    scores_a = critic(images, torch.tensor([0.1, 0.2]))
    scores_b = critic(images, torch.tensor([0.9, 0.7]))
    assert scores_a.shape == (2, )
    assert not torch.allclose(scores_a, scores_b)


def _weighted_layers(module):
    return [
        m for m in module.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding))
    ]


def test_projection_discriminator_is_spectrally_normalised():
    torch.manual_seed(0)
    critic = ProjectionDiscriminator(num_classes=4, base_channels=8)
    layers = _weighted_layers(critic)
    assert len(layers) >= 10
    assert all(has_spectral_norm(layer) for layer in layers)
    # In training mode every read of a weight runs one power iteration;
    # they drive its largest singular value to 1.
    critic.train()
    for _ in range(20):
        weight = critic.class_embedding.weight
    sigma = torch.linalg.matrix_norm(weight.detach(), ord=2)
    assert sigma == pytest.approx(1.0, abs=1e-3)
    raw = critic.class_embedding.parametrizations.weight.original
    assert torch.linalg.matrix_norm(raw.detach(), ord=2) != pytest.approx(
        1.0, abs=1e-2)


def test_the_power_iteration_runs_in_float32_under_autocast(monkeypatch):
    torch.manual_seed(0)
    layer = init_layer(nn.Conv2d(4, 8, 3, padding=1))
    products = []  # (autocast on?, result dtype) of each matrix-vector one
    mv = torch.mv

    def recording_mv(*args, **kwargs):
        out = mv(*args, **kwargs)
        products.append((torch.is_autocast_enabled('cpu'), out.dtype))
        return out

    monkeypatch.setattr(torch, 'mv', recording_mv)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = layer(torch.randn(2, 4, 6, 6))
    assert out.dtype == torch.bfloat16  # the conv itself is autocast
    # two power-iteration products and sigma's, none autocast
    assert products == [(False, torch.float32)] * 3
    vectors = layer.parametrizations.weight[0]
    assert vectors._u.dtype == vectors._v.dtype == torch.float32
    assert sorted(layer.state_dict()) == [
        'bias', 'parametrizations.weight.0._u',
        'parametrizations.weight.0._v', 'parametrizations.weight.original'
    ]


def test_ccgan_discriminator_is_spectrally_normalised():
    torch.manual_seed(0)
    critic = CcGANDiscriminator(
        img_size=32, base_channels=8, label_embed_dim=16)
    layers = _weighted_layers(
        critic.blocks) + [critic.linear, critic.label_projection]
    assert all(has_spectral_norm(layer) for layer in layers)
    # The SNGAN generator carries none.
    generator = CcGANGenerator(
        img_size=32, base_channels=8, label_embed_dim=16)
    assert not any(
        has_spectral_norm(layer) for layer in _weighted_layers(generator))


def test_networks_are_registered():
    generator = MODELS.build(
        dict(type='BigGANGenerator', num_classes=2, base_channels=8))
    critic = MODELS.build(
        dict(type='CcGANDiscriminator', img_size=32, base_channels=8))
    assert isinstance(generator, BigGANGenerator)
    assert isinstance(critic, CcGANDiscriminator)
