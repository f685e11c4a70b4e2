# Copyright (c) cgankd_plugin contributors.
"""The small conditional DCGAN pair: shapes, conditioning, use in the GANs."""
import pytest
import torch

from cgankd_plugin.models.generators import (DCGANDiscriminator,
                                             DCGANGenerator,
                                             has_spectral_norm)
from cgankd_plugin.registry import MODELS


@pytest.mark.parametrize('img_size,base_size', [(28, 7), (32, 4), (64, 4)])
@pytest.mark.parametrize('num_classes', [3, None])
def test_shapes_at_each_resolution(img_size, base_size, num_classes):
    torch.manual_seed(0)
    generator = DCGANGenerator(
        noise_dim=8, img_size=img_size, img_channels=1, base_channels=4,
        num_classes=num_classes, embed_dim=8)
    discriminator = DCGANDiscriminator(
        img_size=img_size, img_channels=1, base_channels=4,
        num_classes=num_classes, embed_dim=8)
    labels = (torch.tensor([0, 1, 2, 0])
              if num_classes else torch.tensor([0.0, 0.3, 0.7, 1.0]))
    images = generator(torch.randn(4, 8), labels)
    assert generator.base_size == base_size
    assert images.shape == (4, 1, img_size, img_size)
    assert images.min() >= -1 and images.max() <= 1
    scores = discriminator(images, labels)
    assert scores.shape == (4, )
    assert torch.isfinite(scores).all()


@pytest.mark.parametrize('img_size', [6, 30, 36])
def test_rejects_sizes_that_do_not_halve_to_a_base_map(img_size):
    with pytest.raises(ValueError, match='img_size'):
        DCGANGenerator(img_size=img_size)
    with pytest.raises(ValueError, match='img_size'):
        DCGANDiscriminator(img_size=img_size)


@pytest.mark.parametrize('num_classes', [3, None])
def test_the_condition_changes_both_networks(num_classes):
    torch.manual_seed(0)
    generator = DCGANGenerator(
        noise_dim=8, base_channels=4, num_classes=num_classes, embed_dim=8)
    discriminator = DCGANDiscriminator(
        base_channels=4, num_classes=num_classes, embed_dim=8)
    generator.eval()
    a, b = ((torch.tensor([0, 0]), torch.tensor([2, 2])) if num_classes
            else (torch.tensor([0.0, 0.0]), torch.tensor([1.0, 1.0])))
    noise = torch.randn(2, 8)
    assert not torch.allclose(generator(noise, a), generator(noise, b))
    images = torch.rand(2, 1, 28, 28) * 2 - 1
    assert not torch.allclose(
        discriminator(images, a), discriminator(images, b))


def test_discriminator_layers_are_spectrally_normalised():
    discriminator = DCGANDiscriminator(base_channels=4, num_classes=3)
    assert all(has_spectral_norm(conv) for conv in discriminator.convs)
    assert has_spectral_norm(discriminator.linear)
    assert has_spectral_norm(discriminator.embedding)


@pytest.mark.parametrize('gan_type', ['ClassConditionalGAN',
                                      'ContinuousConditionalGAN'])
def test_a_gan_of_the_pair_trains_on_grey_28px_images(gan_type):
    torch.manual_seed(0)
    extra = (dict(num_classes=3) if gan_type == 'ClassConditionalGAN' else
             dict(vicinity='soft', kappa=-2, sigma=None))
    gan = MODELS.build(
        dict(
            type=gan_type,
            img_size=28,
            img_channels=1,
            noise_dim=8,
            generator=dict(type='DCGANGenerator', base_channels=4),
            discriminator=dict(type='DCGANDiscriminator', base_channels=4),
            diff_augment='translation,cutout',
            **extra))
    images = torch.randint(0, 256, (12, 1, 28, 28), dtype=torch.uint8)
    labels = (torch.arange(12) % 3 if 'num_classes' in extra else
              torch.linspace(0, 1, 12))
    optimizers = dict(
        generator=torch.optim.Adam(gan.generator.parameters(), 1e-3),
        discriminator=torch.optim.Adam(gan.discriminator.parameters(), 1e-3))
    before = [p.detach().clone() for p in gan.generator.parameters()]
    losses = gan.train_on_tensors(images, labels, optimizers, 6,
                            torch.Generator().manual_seed(0))
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())
    assert any(not torch.equal(b, p)
               for b, p in zip(before, gan.generator.parameters()))
    samples = gan.sample(labels[:4], rng=torch.Generator().manual_seed(1))
    assert samples.shape == (4, 1, 28, 28)
