# Copyright (c) cgankd_plugin contributors.
"""``train_step`` of both cGANs, as a Runner calls it (tiny DCGANs)."""
import pytest
import torch
from mmengine.model import ExponentialMovingAverage
from mmengine.runner.checkpoint import load_state_dict

from cgankd_plugin.models.generators import DEFAULT_EMA_CONFIG
from cgankd_plugin.registry import MODELS

KINDS = ['class', 'continuous']
EMA = dict(momentum=0.25, start_iter=2)


@pytest.fixture
def tiny_gan():
    """Build a 16 px grey conditional DCGAN of width 4 (seeded)."""

    def build(kind: str, seed: int = 0, **kwargs):
        torch.manual_seed(seed)
        config = dict(
            img_size=16,
            img_channels=1,
            noise_dim=8,
            generator=dict(
                type='DCGANGenerator', base_channels=4, embed_dim=8),
            discriminator=dict(
                type='DCGANDiscriminator', base_channels=4, embed_dim=8),
            discriminator_steps=1,
            ema_config=EMA)
        if kind == 'class':
            config.update(type='ClassConditionalGAN', num_classes=3)
        else:
            config.update(type='ContinuousConditionalGAN', vicinity='soft')
        config.update(kwargs)
        return MODELS.build(config)

    return build


@pytest.fixture
def tiny_batches(make_class_batch, make_vicinal_batches):
    """Batch ``b`` of 4 grey 16 px images, as a Runner's loader gives it."""

    def batches(kind: str):
        if kind == 'continuous':
            return make_vicinal_batches(
                img_size=16, img_channels=1, vicinity='soft')

        def batch(index: int) -> dict:
            rng = torch.Generator().manual_seed(index)
            images = torch.randint(
                0, 256, (4, 1, 16, 16), dtype=torch.uint8, generator=rng)
            return make_class_batch(images, (torch.arange(4) + index) % 3)

        return batch

    return batches


def _params(module) -> dict:
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def _floats(module) -> dict:
    return {
        k: v.clone()
        for k, v in module.state_dict().items() if v.is_floating_point()
    }


def _changed(before: dict, module) -> list:
    after = dict(module.named_parameters())
    return [k for k in before if not torch.equal(before[k], after[k])]


@pytest.mark.parametrize('kind', KINDS)
def test_the_discriminator_updates_every_call_the_generator_every_dth(
        kind, tiny_gan, tiny_batches, make_optim_wrapper, message_hub):
    gan = tiny_gan(kind, discriminator_steps=2)
    batches = tiny_batches(kind)
    wrapper = make_optim_wrapper(gan)
    for step in range(4):
        message_hub.update_info('iter', step)
        disc, gen = _params(gan.discriminator), _params(gan.generator)
        losses = gan.train_step(batches(step), wrapper)
        generator_turn = step % 2 == 1
        assert set(losses) == ({'loss_disc', 'loss_gen'}
                               if generator_turn else {'loss_disc'})
        assert all(torch.isfinite(v) for v in losses.values())
        assert _changed(disc, gan.discriminator)
        assert bool(_changed(gen, gan.generator)) == generator_turn
        assert int(gan.iteration) == (step + 1) // 2


@pytest.mark.parametrize('kind', KINDS)
def test_the_ema_copies_the_generator_then_averages_it(
        kind, tiny_gan, tiny_batches, make_optim_wrapper, message_hub):
    gan = tiny_gan(kind)
    assert isinstance(gan.generator_ema, ExponentialMovingAverage)
    batches = tiny_batches(kind)
    wrapper = make_optim_wrapper(gan)
    for step in range(2):  # start_iter=2: the first two turns copy
        message_hub.update_info('iter', step)
        gan.train_step(batches(step), wrapper)
        ema = gan.generator_ema.module.state_dict()
        for name, value in gan.generator.state_dict().items():
            assert torch.equal(ema[name], value), name
    before = _floats(gan.generator_ema.module)
    message_hub.update_info('iter', 2)
    gan.train_step(batches(2), wrapper)
    generator = _floats(gan.generator)
    ema = _floats(gan.generator_ema.module)
    assert int(gan.generator_ema.steps) == 2
    for name, value in generator.items():
        expected = torch.lerp(before[name], value, 0.25)
        assert torch.allclose(ema[name], expected, atol=1e-7), name
    params = dict(gan.generator.named_parameters())
    moved = [k for k in params if not torch.equal(ema[k], generator[k])]
    assert moved
    for name in moved:  # a quarter of the way from the old average to G
        old_gap = (before[name] - generator[name]).abs()
        assert bool(((ema[name] - generator[name]).abs() <= old_gap).all())
    # the batch-norm statistics are averaged too, not copied
    stats = [k for k in generator if 'running_' in k]
    assert stats
    assert all(not torch.equal(ema[k], generator[k]) for k in stats)


def test_without_update_buffers_the_ema_copies_the_statistics(
        tiny_gan, tiny_batches, run_steps):
    gan = tiny_gan('class', ema_config=dict(EMA, update_buffers=False))
    run_steps(gan, tiny_batches('class'), steps=3)
    ema = dict(gan.generator_ema.module.named_buffers())
    for name, value in gan.generator.named_buffers():
        assert torch.equal(ema[name], value), name
    params = dict(gan.generator.named_parameters())
    ema_params = dict(gan.generator_ema.module.named_parameters())
    assert any(not torch.equal(params[k], ema_params[k]) for k in params)


@pytest.mark.parametrize('kind', KINDS)
def test_same_seed_same_weights(kind, tiny_gan, tiny_batches, run_steps):
    states = []
    for train_seed in (0, 0, 1):
        gan = tiny_gan(kind, train_seed=train_seed,
                       diff_augment='translation,cutout')
        run_steps(gan, tiny_batches(kind), steps=3)
        states.append(gan.state_dict())
    assert states[0].keys() == states[1].keys()
    assert all(torch.equal(v, states[1][k]) for k, v in states[0].items())
    assert any(not torch.equal(v, states[2][k])
               for k, v in states[0].items())


# torch's loader, and MMEngine's (a Runner's resume), which loads each
# module's own part of the state dict
@pytest.mark.parametrize('load', [
    lambda gan, state: gan.load_state_dict(state),
    lambda gan, state: load_state_dict(gan, state, strict=True)
], ids=['torch', 'mmengine'])
@pytest.mark.parametrize('kind', KINDS)
def test_a_resumed_run_trains_as_an_uninterrupted_one(
        kind, load, tiny_gan, tiny_batches, make_optim_wrapper, run_steps):
    batches = tiny_batches(kind)
    whole = tiny_gan(kind, diff_augment='translation')
    run_steps(whole, batches, steps=4)

    first = tiny_gan(kind, diff_augment='translation')
    first_wrapper = make_optim_wrapper(first)
    run_steps(first, batches, steps=2, optim_wrapper=first_wrapper)
    resumed = tiny_gan(kind, seed=7, diff_augment='translation')
    load(resumed, first.state_dict())
    wrapper = make_optim_wrapper(resumed)
    wrapper.load_state_dict(first_wrapper.state_dict())
    torch.manual_seed(123)  # no draw may come from the global generator
    run_steps(resumed, batches, steps=2, start=2, optim_wrapper=wrapper)
    expected = whole.state_dict()
    assert all(torch.equal(v, expected[k])
               for k, v in resumed.state_dict().items())


@pytest.mark.parametrize('kind', KINDS)
def test_a_batch_of_another_image_size_is_refused(kind, tiny_gan,
                                                  tiny_batches, run_steps):
    gan = tiny_gan(kind, img_size=32)
    with pytest.raises(ValueError, match=r'img_size mismatch.*32.*16'):
        run_steps(gan, tiny_batches(kind), steps=1)


def test_the_default_ema_config_is_mmagics_shape(tiny_gan):
    assert DEFAULT_EMA_CONFIG == dict(
        type='ExponentialMovingAverage', momentum=0.001, interval=1,
        update_buffers=True, start_iter=1000)
    gan = tiny_gan('class', ema_config=dict(type='ExponentialMovingAverage'))
    ema = gan.generator_ema
    assert (ema.momentum, ema.interval, ema.update_buffers) == (0.001, 1,
                                                                True)
    assert gan.ema_start_iter == 1000
    assert tiny_gan('class', ema_config=None).generator_ema is None


@pytest.mark.parametrize('ema_config,key', [
    (dict(decay=0.999), 'decay'),
    (dict(momentum=0.0), 'momentum'),
    (dict(momentum=1.0), 'momentum'),
    (dict(momentum=1.5), 'momentum'),
    (dict(type='MomentumAnnealingEMA'), 'type'),
    (dict(interval=0), 'interval'),
    (dict(start_iter=-1), 'start_iter'),
    (dict(start_iter=1.5), 'start_iter'),
    (dict(update_buffers='yes'), 'update_buffers'),
])
def test_a_bad_ema_config_names_its_key(tiny_gan, ema_config, key):
    with pytest.raises(ValueError, match=rf'ema_config\.{key}'):
        tiny_gan('class', ema_config=ema_config)


def test_flip_reals_shows_the_discriminator_flipped_real_images(
        tiny_gan, tiny_batches, make_optim_wrapper, message_hub,
        monkeypatch):
    seen = []

    def record(self, real_images, *args):
        seen.append(real_images.clone())
        weight = next(self.discriminator.parameters())
        return weight.sum() * 0.0

    monkeypatch.setattr(type(tiny_gan('class')), '_discriminator_loss',
                        record)
    batch = tiny_batches('class')(0)
    original = torch.stack(list(batch['inputs'])).float() / 127.5 - 1.0
    for flip in (False, True, True):
        gan = tiny_gan('class', flip_reals=flip)
        message_hub.update_info('iter', 0)
        gan.train_step(batch, make_optim_wrapper(gan))
    plain, flipped, again = seen
    assert torch.equal(plain, original)
    per_image = [
        torch.equal(img, ref.flip(2)) and not torch.equal(img, ref)
        for img, ref in zip(flipped, original)
    ]
    kept = [torch.equal(img, ref) for img, ref in zip(flipped, original)]
    # every image is either flipped or kept, and both happen in 4 images
    # at this seed (the iteration's own draw: a resumed run flips alike)
    assert all(f or k for f, k in zip(per_image, kept))
    assert any(per_image) and any(kept)
    assert torch.equal(flipped, again)


def test_the_cifar100_recipe_flips_real_images():
    import os.path as osp

    from mmengine.config import Config
    root = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))
    for name in ('biggan_1xb512_cifar100', 'biggan_1xb256_imagenet100'):
        cfg = Config.fromfile(osp.join(root, 'configs', 'cgan', name + '.py'))
        assert cfg.model.flip_reals is True, name
