# Copyright (c) cgankd_plugin contributors.
"""GANTrainer: iterations, checkpoints, resume, divergence."""
import math
import os.path as osp

import pytest
import torch

from cgankd_plugin.registry import MODELS
from cgankd_plugin.synthesis.gan_training import GANTrainer

ITERS = 4
OPTIMIZERS = dict(
    generator=dict(type='Adam', lr=2e-4, betas=(0.0, 0.999)),
    discriminator=dict(type='Adam', lr=2e-4, betas=(0.0, 0.999)))


class Logger:

    def __init__(self):
        self.lines = []

    def info(self, msg):
        self.lines.append(msg)


def make_gan(seed=0):
    torch.manual_seed(seed)
    return MODELS.build(
        dict(
            type='ClassConditionalGAN',
            num_classes=10,
            img_size=32,
            noise_dim=8,
            generator=dict(
                type='BigGANGenerator', base_channels=4, shared_dim=8),
            discriminator=dict(type='ProjectionDiscriminator',
                               base_channels=4),
            discriminator_steps=1,
            ema_config=dict(momentum=0.5, start_iter=1),
            diff_augment='translation,cutout'))


@pytest.fixture(scope='module')
def data():
    gen = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (20, 3, 32, 32), dtype=torch.uint8,
                           generator=gen)
    return images, torch.arange(20) % 10


def make_trainer(gan, work_dir, iters=ITERS, interval=100, logger=None):
    return GANTrainer(gan, OPTIMIZERS, iters, batch_size=4,
                      checkpoint_interval=interval, work_dir=str(work_dir),
                      seed=3, logger=logger or Logger())


def load(path):
    return torch.load(path, map_location='cpu', weights_only=True)


def assert_same_state(a, b):
    assert set(a) == set(b)
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.fixture(scope='module')
def uninterrupted(data, tmp_path_factory):
    work = tmp_path_factory.mktemp('whole')
    gan = make_gan()
    logger = Logger()
    losses = make_trainer(gan, work, logger=logger).run(*data)
    return work, gan, losses, logger


def test_runs_n_iterations_and_writes_the_final_weights(uninterrupted):
    work, gan, losses, logger = uninterrupted
    assert set(losses) == {'loss_disc', 'loss_gen'}
    assert all(math.isfinite(v) for v in losses.values())
    assert int(gan.iteration) == ITERS
    final = osp.join(work, 'cgan_final.pth')
    assert osp.isfile(final)
    assert not osp.exists(osp.join(work, 'cgan_latest.pth'))
    assert_same_state(load(final), gan.state_dict())
    iter_lines = [line for line in logger.lines if 'cGAN: iter' in line]
    assert len(iter_lines) == ITERS
    assert f'iter {ITERS}/{ITERS}' in iter_lines[-1]
    # training changed the generator
    assert not torch.equal(gan.generator.state_dict()['output_conv.bias'],
                           make_gan().generator.state_dict()
                           ['output_conv.bias'])


def test_resume_after_a_kill_ends_with_the_same_weights(
        data, uninterrupted, tmp_path, monkeypatch):
    whole_dir = uninterrupted[0]
    gan = make_gan()
    real_step = type(gan).train_on_tensors
    calls = []

    def dying_step(self, *args, **kwargs):
        if len(calls) == 3:
            raise KeyboardInterrupt('killed in iteration 4')
        calls.append(1)
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(type(gan), 'train_on_tensors', dying_step)
    with pytest.raises(KeyboardInterrupt):
        make_trainer(gan, tmp_path, interval=2).run(*data)
    monkeypatch.setattr(type(gan), 'train_on_tensors', real_step)
    latest = load(osp.join(tmp_path, 'cgan_latest.pth'))
    assert latest['iteration'] == 2
    assert not osp.exists(osp.join(tmp_path, 'cgan_final.pth'))

    # a fresh process: other initial weights, same work_dir
    logger = Logger()
    resumed = make_gan(seed=7)
    losses = make_trainer(resumed, tmp_path, interval=2,
                          logger=logger).run(*data)
    assert any('resuming from iteration 2' in line for line in logger.lines)
    assert sum('cGAN: iter' in line for line in logger.lines) == ITERS - 2
    assert losses == uninterrupted[2]
    assert_same_state(
        load(osp.join(tmp_path, 'cgan_final.pth')),
        load(osp.join(whole_dir, 'cgan_final.pth')))


def test_finished_run_loads_without_training(data, uninterrupted,
                                             monkeypatch):
    work = uninterrupted[0]
    gan = make_gan(seed=5)

    def no_training(*args, **kwargs):
        raise AssertionError('trained although cgan_final.pth exists')

    monkeypatch.setattr(type(gan), 'train_on_tensors', no_training)
    logger = Logger()
    assert make_trainer(gan, work, logger=logger).run(*data) is None
    assert_same_state(gan.state_dict(), load(osp.join(work,
                                                      'cgan_final.pth')))
    assert any('loaded from' in line for line in logger.lines)


def test_diverging_loss_raises(data, tmp_path):
    gan = make_gan()
    with torch.no_grad():
        for param in gan.discriminator.parameters():
            param.fill_(float('nan'))
    with pytest.raises(FloatingPointError, match='diverged at iteration 1'):
        make_trainer(gan, tmp_path).run(*data)
    assert not osp.exists(osp.join(tmp_path, 'cgan_final.pth'))


def test_missing_optimizer_config(data, tmp_path):
    trainer = GANTrainer(make_gan(), dict(generator=OPTIMIZERS['generator']),
                         1, 4, 1, str(tmp_path), 0, Logger())
    with pytest.raises(ValueError, match='discriminator'):
        trainer.run(*data)


@pytest.mark.parametrize('damage', ['garbage', 'truncated'])
def test_a_damaged_latest_checkpoint_is_a_named_error(
        data, uninterrupted, tmp_path, damage):
    from cgankd_plugin.utils.checkpoint import CheckpointError
    latest = osp.join(tmp_path, 'cgan_latest.pth')
    if damage == 'garbage':
        with open(latest, 'wb') as f:
            f.write(b'not a checkpoint' * 8)
    else:  # a good checkpoint, cut in half
        with pytest.raises(KeyboardInterrupt):
            gan = make_gan()
            trainer = make_trainer(gan, tmp_path, interval=1)
            trainer.gan.train_on_tensors = _raise_after(
                2, trainer.gan.train_on_tensors)
            trainer.run(*data)
        with open(latest, 'rb') as f:
            whole = f.read()
        with open(latest, 'wb') as f:
            f.write(whole[:len(whole) // 2])
    with pytest.raises(CheckpointError) as err:
        make_trainer(make_gan(), tmp_path).run(*data)
    msg = str(err.value)
    assert latest in msg and 'remove it' in msg
    assert not osp.exists(osp.join(tmp_path, 'cgan_final.pth'))


def _raise_after(n, step):
    calls = []

    def dying(*args, **kwargs):
        if len(calls) == n:
            raise KeyboardInterrupt('killed')
        calls.append(1)
        return step(*args, **kwargs)

    return dying


def test_a_set_read_by_index_trains_the_cgan_of_the_set_in_memory(
        data, uninterrupted, tmp_path):
    """Reading each batch's images from the dataset (``DatasetImages``)
    gives the weights of training on the whole set as one tensor, and
    decodes only the images of the batches drawn."""
    from cgankd_plugin.structures import DatasetImages
    images, labels = data
    decoded = []

    class RawSet:  # raw samples as a dataset's get_data_info gives them

        def __len__(self):
            return len(labels)

        def get_data_info(self, idx):
            return _Sample(idx, images[idx].permute(1, 2, 0).numpy(),
                           int(labels[idx]))

    class _Sample(dict):

        def __init__(self, idx, img, label):
            super().__init__(img=img, gt_label=label)
            self.idx = idx

        def get(self, key, default=None):
            if key == 'img':
                decoded.append(self.idx)
            return super().get(key, default)

    real = DatasetImages(RawSet(), 32, lambda info: info['gt_label'])
    gan = make_gan()
    make_trainer(gan, tmp_path).run(real, real.labels)
    assert_same_state(gan.state_dict(), uninterrupted[1].state_dict())
    # 4 iterations of one D batch of 4, after the first image's channels
    assert len(decoded) == 1 + ITERS * 4
