# Copyright (c) cgankd_plugin contributors.
"""ContinuousConditionalGAN (CcGAN): vicinal batches, train_step, sampling."""
import io

import pytest
import torch
from mmpretrain.structures import DataSample

from cgankd_plugin.models.generators import (CcGANDiscriminator,
                                             CcGANGenerator,
                                             rule_of_thumb_kappa,
                                             rule_of_thumb_sigma)

# the set's labels (make_vicinal_batches): (i % 13) / 12 for i < 24
LABELS = (torch.arange(24) % 13).double() / 12


def test_attributes_and_networks(build_ccgan):
    gan = build_ccgan()
    assert isinstance(gan.generator, CcGANGenerator)
    assert isinstance(gan.discriminator, CcGANDiscriminator)
    assert gan.is_continuous is True and gan.num_classes is None
    assert gan.noise_dim == 16 and gan.img_size == 32
    assert gan.img_channels == 3 and gan.generator_ema is None


def test_one_generator_update_per_turn(build_ccgan):
    assert build_ccgan().generator_steps == 1
    with pytest.raises(TypeError, match='generator_steps'):
        build_ccgan(generator_steps=2)


@pytest.mark.parametrize('vicinity', ['hard', 'soft'])
def test_train_step_runs_and_changes_the_generator(
        run_steps, build_ccgan, make_vicinal_batches, vicinity):
    gan = build_ccgan(
        vicinity=vicinity, diff_augment='color,translation,cutout')
    before = {k: v.clone() for k, v in gan.generator.state_dict().items()}
    losses = run_steps(gan, make_vicinal_batches(vicinity=vicinity), steps=2)
    for step in losses:
        assert set(step) == {'loss_disc', 'loss_gen'}
        assert all(torch.isfinite(v) for v in step.values())
    after = gan.generator.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_rule_of_thumb_is_the_samplers_first_batchs(
        run_steps, build_ccgan, make_vicinal_batches):
    hard = build_ccgan(vicinity='hard')
    assert hard.sigma is None and hard.kappa is None
    run_steps(hard, make_vicinal_batches(vicinity='hard'), steps=1)
    assert hard.sigma == pytest.approx(rule_of_thumb_sigma(LABELS))
    # distinct labels are k / 12: the largest gap is 1 / 12
    assert hard.kappa == pytest.approx(1 / 12)

    soft = build_ccgan(vicinity='soft', kappa=-2)
    run_steps(soft, make_vicinal_batches(vicinity='soft', kappa=-2), steps=1)
    assert soft.kappa == pytest.approx(rule_of_thumb_kappa(LABELS, 2))

    given = build_ccgan(kappa=0.3, sigma=0.01)
    run_steps(given, make_vicinal_batches(kappa=0.3, sigma=0.01), steps=1)
    assert (given.kappa, given.sigma) == (0.3, 0.01)


@pytest.mark.parametrize('vicinity', ['hard', 'soft'])
def test_the_batchs_draws_are_what_the_discriminator_scores(
        build_ccgan, make_vicinal_batches, vicinity):
    gan = build_ccgan(vicinity=vicinity)
    data = gan.data_preprocessor(
        make_vicinal_batches(vicinity=vicinity)(0), True)
    batch = gan._discriminator_batch(data, 4, torch.Generator())
    draws = data['vicinal']
    assert torch.equal(batch.real_conditions, draws['vicinal_target'].float())
    assert torch.equal(batch.fake_conditions, batch.real_conditions)
    assert torch.equal(batch.fake_labels, draws['fake_label'].float())
    if vicinity == 'hard':
        assert batch.real_weights is None and batch.fake_weights is None
    else:
        assert torch.equal(batch.real_weights, draws['real_weight'].float())
        assert torch.equal(batch.fake_weights, draws['fake_weight'].float())
        assert bool((batch.real_weights < 1).any())
    labels = gan._generator_labels(data, 4, torch.Generator(), 0)
    assert torch.equal(labels, draws['gen_label'].float())


def test_same_seed_same_losses_and_samples(run_steps, build_ccgan,
                                           make_vicinal_batches):
    runs = []
    for _ in range(2):
        gan = build_ccgan(vicinity='soft', diff_augment='translation')
        losses = run_steps(gan, make_vicinal_batches(vicinity='soft'),
                           steps=2)
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


def test_check_compatible(build_ccgan):
    gan = build_ccgan()
    gan.check_compatible(img_size=32, img_channels=3)
    with pytest.raises(ValueError, match=r'num_classes.*None.*10'):
        gan.check_compatible(num_classes=10)
    with pytest.raises(ValueError, match=r'img_size.*32.*64'):
        gan.check_compatible(img_size=64)


def test_state_dict_keeps_the_vicinity(run_steps, build_ccgan,
                                       make_vicinal_batches):
    gan = build_ccgan(vicinity='soft', ema_config=dict(start_iter=0))
    run_steps(gan, make_vicinal_batches(vicinity='soft'), steps=1)
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


def test_train_step_refuses_batches_drawn_otherwise(run_steps, build_ccgan,
                                                    make_vicinal_batches):
    batches = make_vicinal_batches(vicinity='hard')
    plain = batches(0)
    plain['data_samples'] = [DataSample() for _ in plain['data_samples']]
    with pytest.raises(ValueError, match='no vicinal draws'):
        run_steps(build_ccgan(), lambda _: plain, steps=1)
    with pytest.raises(ValueError, match="vicinity is 'soft'"):
        run_steps(build_ccgan(vicinity='soft'), batches, steps=1)
    with pytest.raises(ValueError, match='kappa is 0.3'):
        run_steps(build_ccgan(vicinity='hard', kappa=0.3), batches, steps=1)
    with pytest.raises(ValueError, match=r'img_size.*32.*16'):
        run_steps(build_ccgan(), make_vicinal_batches(img_size=16), steps=1)
