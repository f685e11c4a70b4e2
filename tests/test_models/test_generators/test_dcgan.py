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


@pytest.mark.parametrize('num_classes', [3, None])
def test_conditional_norm_steers_every_stage(num_classes):
    """With ``conditional_norm`` each stage's BN is modulated by the
    condition: its gain and bias differ between two classes (labels)."""
    from cgankd_plugin.models.generators import ConditionalBatchNorm2d
    torch.manual_seed(0)
    generator = DCGANGenerator(
        noise_dim=8, base_channels=4, num_classes=num_classes, embed_dim=8,
        conditional_norm=True)
    norms = [m for m in generator.blocks
             if isinstance(m, ConditionalBatchNorm2d)]
    assert len(norms) == 2  # 28 px: two stages
    assert not any(isinstance(m, torch.nn.BatchNorm2d)
                   for m in generator.blocks)
    a, b = ((torch.tensor([0, 0]), torch.tensor([2, 2])) if num_classes
            else (torch.tensor([0.0, 0.0]), torch.tensor([1.0, 1.0])))
    for norm in norms:
        torch.nn.init.normal_(norm.gain.weight)
        condition_a = generator.embedding(a)
        condition_b = generator.embedding(b)
        assert not torch.allclose(norm.gain(condition_a),
                                  norm.gain(condition_b))
    generator.eval()
    noise = torch.randn(2, 8)
    assert generator(noise, a).shape == (2, 1, 28, 28)
    assert not torch.allclose(generator(noise, a), generator(noise, b))


def test_extra_convs_deepen_the_discriminator():
    """``extra_convs`` 3x3 stride-1 convs lead every stage but the first,
    spectrally normalised; the output is unchanged in shape."""
    shallow = DCGANDiscriminator(base_channels=4, num_classes=3)
    deep = DCGANDiscriminator(base_channels=4, num_classes=3, extra_convs=2)
    assert len(shallow.convs) == 2 and len(deep.convs) == 4
    strides = [conv.stride[0] for conv in deep.convs]
    assert strides == [2, 1, 1, 2]
    assert all(has_spectral_norm(conv) for conv in deep.convs)
    images = torch.rand(3, 1, 28, 28) * 2 - 1
    assert deep(images, torch.tensor([0, 1, 2])).shape == (3, )


def test_discriminator_layers_are_spectrally_normalised():
    discriminator = DCGANDiscriminator(base_channels=4, num_classes=3)
    assert all(has_spectral_norm(conv) for conv in discriminator.convs)
    assert has_spectral_norm(discriminator.linear)
    assert has_spectral_norm(discriminator.embedding)


@pytest.mark.parametrize('gan_type', ['ClassConditionalGAN',
                                      'ContinuousConditionalGAN'])
def test_a_gan_of_the_pair_trains_on_grey_28px_images(
        gan_type, run_steps, make_class_batch, make_vicinal_batches):
    torch.manual_seed(0)
    classes = gan_type == 'ClassConditionalGAN'
    extra = (dict(num_classes=3) if classes else
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
    if classes:
        images = torch.randint(0, 256, (6, 1, 28, 28), dtype=torch.uint8)
        batch = make_class_batch(images, torch.arange(6) % 3)
        batches = lambda _: batch  # noqa: E731
        labels = torch.arange(4) % 3
    else:
        batches = make_vicinal_batches(
            img_size=28, img_channels=1, batch_size=6, vicinity='soft',
            kappa=-2)
        labels = torch.linspace(0, 1, 4)
    before = [p.detach().clone() for p in gan.generator.parameters()]
    # the class GAN's generator turn comes every second iteration
    steps = gan.discriminator_steps
    losses = run_steps(gan, batches, steps=steps)[-1]
    assert set(losses) == {'loss_disc', 'loss_gen'}
    assert all(torch.isfinite(v) for v in losses.values())
    assert any(not torch.equal(b, p)
               for b, p in zip(before, gan.generator.parameters()))
    samples = gan.sample(labels, rng=torch.Generator().manual_seed(1))
    assert samples.shape == (4, 1, 28, 28)
