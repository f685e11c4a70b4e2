# Copyright (c) cgankd_plugin contributors.
"""ClassConditionalGAN: train_step, sampling, EMA, checkpoints."""
import io

import pytest
import torch
from mmpretrain.structures import DataSample

from cgankd_plugin.models.generators import (BigGANGenerator,
                                             ClassConditionalGAN,
                                             ProjectionDiscriminator)
from cgankd_plugin.registry import MODELS


def test_wrapper_fills_the_network_configs(build_class_gan):
    gan = build_class_gan()
    assert isinstance(gan.generator, BigGANGenerator)
    assert isinstance(gan.discriminator, ProjectionDiscriminator)
    assert gan.generator.num_classes == gan.discriminator.num_classes == 5
    assert gan.generator.noise_dim == gan.noise_dim == 16
    assert gan.num_classes == 5 and gan.img_size == 32
    assert gan.img_channels == 3 and gan.is_continuous is False


def test_conflicting_network_config_raises():
    with pytest.raises(ValueError, match='num_classes=7'):
        ClassConditionalGAN(
            dict(type='BigGANGenerator', base_channels=8, num_classes=7),
            dict(type='ProjectionDiscriminator', base_channels=8),
            num_classes=5)


def test_built_from_the_registry():
    gan = MODELS.build(
        dict(
            type='ClassConditionalGAN',
            generator=dict(type='BigGANGenerator', base_channels=8),
            discriminator=dict(
                type='ProjectionDiscriminator', base_channels=8),
            num_classes=3,
            ema_config=None))
    assert isinstance(gan, ClassConditionalGAN)
    assert gan.generator_ema is None


def test_train_step_updates_generator_and_returns_finite_losses(
        run_steps, build_class_gan, class_batches):
    gan = build_class_gan(diff_augment='color,translation,cutout')
    before = {k: v.clone() for k, v in gan.generator.state_dict().items()}
    losses = run_steps(gan, class_batches, steps=2)
    for step in losses:
        assert set(step) == {'loss_disc', 'loss_gen'}
        assert all(torch.isfinite(v) for v in step.values())
    after = gan.generator.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert any('original' in k for k in changed)
    assert int(gan.iteration) == 2


def test_same_seed_same_losses_and_samples(run_steps, build_class_gan,
                                           class_batches):
    runs = []
    for _ in range(2):
        gan = build_class_gan(diff_augment='translation,cutout')
        losses = run_steps(gan, class_batches, steps=2)
        samples = gan.sample(
            torch.tensor([0, 4, 2]), rng=torch.Generator().manual_seed(9))
        runs.append((losses, samples))
    assert runs[0][0] == runs[1][0]
    assert torch.equal(runs[0][1], runs[1][1])


def test_sample_shape_range_and_rng(build_class_gan):
    gan = build_class_gan()
    labels = torch.tensor([0, 1, 2, 3, 4, 0])
    first = gan.sample(labels, rng=torch.Generator().manual_seed(1))
    again = gan.sample(labels, rng=torch.Generator().manual_seed(1))
    other = gan.sample(labels, rng=torch.Generator().manual_seed(2))
    assert first.shape == (6, 3, 32, 32)
    assert first.min() >= -1 and first.max() <= 1
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    # explicit noise gives the same images
    noise = torch.randn(6, 16, generator=torch.Generator().manual_seed(1))
    assert torch.equal(gan.sample(labels, noise=noise), first)
    # sampling restores the training mode and builds no graph
    assert gan.generator_ema.training and not first.requires_grad
    with pytest.raises(ValueError, match=r'\[0, 5\)'):
        gan.sample(torch.tensor([5]))


def test_ema_is_a_copy_before_start_and_an_average_after(
        run_steps, build_class_gan, class_batches):
    copying = build_class_gan(ema_config=dict(momentum=0.1, start_iter=100))
    run_steps(copying, class_batches, steps=1)
    ema_state = copying.generator_ema.module.state_dict()
    for name, value in copying.generator.state_dict().items():
        assert torch.equal(value, ema_state[name])

    # turn 0 leaves a copy of G (start_iter=1), turn 1 averages
    averaging = build_class_gan(ema_config=dict(momentum=0.1, start_iter=1))
    run_steps(averaging, class_batches, steps=2)
    params = dict(averaging.generator.named_parameters())
    ema_params = dict(averaging.generator_ema.module.named_parameters())
    assert any(not torch.equal(params[k], ema_params[k]) for k in params)
    assert not any(p.requires_grad for p in ema_params.values())
    labels = torch.tensor([0, 1])
    rng_state = torch.Generator().manual_seed(3)
    ema_images = averaging.sample(labels, rng=rng_state)
    rng_state = torch.Generator().manual_seed(3)
    raw_images = averaging.sample(labels, rng=rng_state, use_ema=False)
    assert not torch.equal(ema_images, raw_images)


def test_check_compatible_names_field_and_values(build_class_gan):
    gan = build_class_gan()
    gan.check_compatible(num_classes=5, img_size=32, img_channels=3)
    gan.check_compatible()
    with pytest.raises(ValueError, match=r'num_classes.*5.*100'):
        gan.check_compatible(num_classes=100)
    with pytest.raises(ValueError, match=r'img_size.*32.*64'):
        gan.check_compatible(num_classes=5, img_size=64)
    with pytest.raises(ValueError, match=r'img_channels.*3.*1'):
        gan.check_compatible(img_channels=1)


def test_train_step_rejects_bad_inputs(run_steps, build_class_gan,
                                       class_data, make_class_batch):
    gan = build_class_gan()
    images, labels = class_data
    images, labels = images[:4], labels[:4]

    def step(batch):
        return run_steps(gan, lambda _: batch, steps=1)

    with pytest.raises(TypeError, match='uint8'):
        step(dict(inputs=list(images.float()),
                  data_samples=make_class_batch(images, labels)[
                      'data_samples']))
    with pytest.raises(ValueError, match=r'img_size.*32.*16'):
        step(make_class_batch(images[:, :, :16, :16], labels))
    with pytest.raises(ValueError, match=r'img_channels.*3.*1'):
        step(make_class_batch(images[:, :1], labels))
    with pytest.raises(ValueError, match=r'class labels must lie in \[0, 5\)'):
        step(make_class_batch(images, labels + 5))
    with pytest.raises(ValueError, match='no gt_label'):
        step(dict(inputs=list(images),
                  data_samples=[DataSample() for _ in labels]))
    assert int(gan.iteration) == 0


def test_state_dict_round_trip_with_weights_only(run_steps, build_class_gan,
                                                 class_batches):
    gan = build_class_gan()
    run_steps(gan, class_batches, steps=1)
    buffer = io.BytesIO()
    torch.save(gan.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    fresh = build_class_gan(seed=1)
    fresh.load_state_dict(state)
    assert int(fresh.iteration) == 1
    labels = torch.tensor([0, 3])
    assert torch.equal(
        fresh.sample(labels, rng=torch.Generator().manual_seed(0)),
        gan.sample(labels, rng=torch.Generator().manual_seed(0)))
