# Copyright (c) cgankd_plugin contributors.
"""ContinuousConditionalGAN (CcGAN): vicinities, train_step, sampling."""
import io
import math

import pytest
import torch

from cgankd_plugin.models.generators import (CcGANDiscriminator,
                                             CcGANGenerator,
                                             rule_of_thumb_kappa,
                                             rule_of_thumb_sigma)


def test_attributes_and_networks(build_ccgan):
    gan = build_ccgan()
    assert isinstance(gan.generator, CcGANGenerator)
    assert isinstance(gan.discriminator, CcGANDiscriminator)
    assert gan.is_continuous is True and gan.num_classes is None
    assert gan.noise_dim == 16 and gan.img_size == 32
    assert gan.img_channels == 3 and gan.generator_ema is None


@pytest.mark.parametrize('vicinity', ['hard', 'soft'])
def test_train_step_runs_and_changes_the_generator(train_gan, build_ccgan,
                                                   regression_data, vicinity):
    gan = build_ccgan(
        vicinity=vicinity, diff_augment='color,translation,cutout')
    before = {k: v.clone() for k, v in gan.generator.state_dict().items()}
    losses = train_gan(gan, regression_data, steps=2)
    for step in losses:
        assert set(step) == {'loss_disc', 'loss_gen'}
        assert all(math.isfinite(v) for v in step.values())
    after = gan.generator.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_rule_of_thumb_is_taken_from_the_first_labels(train_gan, build_ccgan,
                                                      regression_data):
    _, labels = regression_data
    hard = build_ccgan(vicinity='hard')
    assert hard.sigma is None and hard.kappa is None
    train_gan(hard, regression_data, steps=1)
    assert hard.sigma == pytest.approx(rule_of_thumb_sigma(labels))
    # distinct labels are k / 12: the largest gap is 1 / 12
    assert hard.kappa == pytest.approx(1 / 12)
    assert hard.vicinity_radius == pytest.approx(1 / 12)

    soft = build_ccgan(vicinity='soft', kappa=-2)
    train_gan(soft, regression_data, steps=1)
    assert soft.kappa == pytest.approx(rule_of_thumb_kappa(labels, 2))
    assert soft.nu == pytest.approx(1 / (2 / 12)**2)

    given = build_ccgan(kappa=0.3, sigma=0.01)
    train_gan(given, regression_data, steps=1)
    assert (given.kappa, given.sigma) == (0.3, 0.01)


def test_soft_vicinity_weights_the_loss(build_ccgan, regression_data):
    gan = build_ccgan(vicinity='soft', sigma=0.02)
    gan._check_training_labels(regression_data[1])
    batch = gan._draw_discriminator_batch(regression_data[1], 16,
                                          torch.Generator().manual_seed(0))
    real_labels = regression_data[1][batch.real_indices].float()
    expected = torch.exp(-gan.nu * (real_labels - batch.real_conditions)**2)
    assert torch.allclose(batch.real_weights, expected, atol=1e-6)
    assert torch.all(batch.fake_weights <= 1) and torch.all(
        batch.fake_weights >= 1e-3 - 1e-6)


def test_hard_vicinity_draws_real_samples_within_kappa(build_ccgan,
                                                       regression_data):
    gan = build_ccgan(vicinity='hard', kappa=0.05, sigma=0.03)
    labels = regression_data[1]
    gan._check_training_labels(labels)
    batch = gan._draw_discriminator_batch(labels, 64,
                                          torch.Generator().manual_seed(0))
    real_labels = labels[batch.real_indices].float()
    assert torch.all((real_labels - batch.real_conditions).abs() <= 0.05 +
                     1e-6)
    assert torch.all((batch.fake_labels -
                      batch.fake_conditions).abs() <= 0.05 + 1e-6)
    assert batch.real_weights is None


def test_same_seed_same_losses_and_samples(train_gan, build_ccgan,
                                           regression_data):
    runs = []
    for _ in range(2):
        gan = build_ccgan(vicinity='soft', diff_augment='translation')
        losses = train_gan(gan, regression_data, steps=2)
        samples = gan.sample(
            torch.tensor([0.1, 0.5]), rng=torch.Generator().manual_seed(4))
        runs.append((losses, samples))
    assert runs[0][0] == runs[1][0]
    assert torch.equal(runs[0][1], runs[1][1])


@pytest.mark.parametrize('img_size', [32, 64])
def test_sample_shape_and_range(build_ccgan, img_size):
    gan = build_ccgan(img_size=img_size)
    images = gan.sample(
        torch.linspace(0, 1, 3), rng=torch.Generator().manual_seed(0))
    assert images.shape == (3, 3, img_size, img_size)
    assert images.min() >= -1 and images.max() <= 1
    with pytest.raises(TypeError, match='float'):
        gan.sample(torch.tensor([1, 2]))


def test_labels_must_be_normalised_floats(make_optimizers, build_ccgan,
                                          regression_data):
    gan = build_ccgan()
    images, labels = regression_data
    optimizers = make_optimizers(gan)
    rng = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        gan.train_on_tensors(images, labels * 2, optimizers, 4, rng)
    with pytest.raises(TypeError, match='float'):
        gan.train_on_tensors(images, (labels * 12).long(), optimizers, 4, rng)


def test_check_compatible(build_ccgan):
    gan = build_ccgan()
    gan.check_compatible(img_size=32, img_channels=3)
    with pytest.raises(ValueError, match=r'num_classes.*None.*10'):
        gan.check_compatible(num_classes=10)
    with pytest.raises(ValueError, match=r'img_size.*32.*64'):
        gan.check_compatible(img_size=64)


def test_state_dict_keeps_the_vicinity(train_gan, build_ccgan,
                                       regression_data):
    gan = build_ccgan(vicinity='soft', ema_config=dict(start_iter=0))
    train_gan(gan, regression_data, steps=1)
    buffer = io.BytesIO()
    torch.save(gan.state_dict(), buffer)
    buffer.seek(0)
    fresh = build_ccgan(seed=5, vicinity='soft', ema_config=dict(start_iter=0))
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert (fresh.sigma, fresh.kappa) == (gan.sigma, gan.kappa)
    labels = torch.tensor([0.2, 0.8])
    assert torch.equal(
        fresh.sample(labels, rng=torch.Generator().manual_seed(0)),
        gan.sample(labels, rng=torch.Generator().manual_seed(0)))


def _runner_batch(images, labels, **draws):
    """A collated Runner batch with VicinalBatchSampler-style draws."""
    from mmpretrain.structures import DataSample
    count = len(images)
    fields = dict(vicinal_target=labels, fake_label=labels, gen_label=labels,
                  real_weight=torch.ones(count),
                  fake_weight=torch.ones(count),
                  vicinity_sigma=torch.full((count, ), 0.05),
                  vicinity_kappa=torch.full((count, ), 0.1),
                  vicinity_soft=torch.zeros(count))
    fields.update(draws)
    samples = []
    for j in range(count):
        samples.append(DataSample(metainfo={
            name: float(value[j]) for name, value in fields.items()}))
    return dict(inputs=list(images), data_samples=samples)


def _optim_wrapper(gan):
    from mmengine.optim import OptimWrapper, OptimWrapperDict
    return OptimWrapperDict(
        generator=OptimWrapper(
            torch.optim.Adam(gan.generator.parameters(), 1e-3)),
        discriminator=OptimWrapper(
            torch.optim.Adam(gan.discriminator.parameters(), 1e-3)))


def test_runner_step_trains_on_the_batchs_draws_and_records_them(
        build_ccgan, regression_data):
    images, labels = regression_data
    gan = build_ccgan(vicinity='hard', kappa=-2)
    assert gan.kappa is None and gan.sigma is None
    before = [p.detach().clone() for p in gan.generator.parameters()]
    losses = gan.train_step(_runner_batch(images[:8], labels[:8]),
                            _optim_wrapper(gan))
    assert set(losses) == {'loss_disc', 'loss_gen'}
    assert all(torch.isfinite(v) for v in losses.values())
    assert any(not torch.equal(b, p)
               for b, p in zip(before, gan.generator.parameters()))
    # the sampler's rule-of-thumb values, recorded in the state dict
    assert gan.kappa == pytest.approx(0.1) and gan.sigma == pytest.approx(
        0.05)


def test_runner_step_refuses_batches_drawn_otherwise(build_ccgan,
                                                     regression_data):
    images, labels = regression_data
    batch = _runner_batch(images[:4], labels[:4])
    with pytest.raises(ValueError, match='no vicinal draws'):
        build_ccgan().train_step(
            dict(inputs=batch['inputs'], data_samples=[
                type(s)() for s in batch['data_samples']]),
            _optim_wrapper(build_ccgan()))
    soft = build_ccgan(vicinity='soft')
    with pytest.raises(ValueError, match="vicinity is 'soft'"):
        soft.train_step(batch, _optim_wrapper(soft))
    fixed = build_ccgan(vicinity='hard', kappa=0.3)
    with pytest.raises(ValueError, match='kappa is 0.3'):
        fixed.train_step(batch, _optim_wrapper(fixed))
