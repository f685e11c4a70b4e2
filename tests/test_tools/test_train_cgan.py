# Copyright (c) cgankd_plugin contributors.
"""The Fashion-MNIST cGAN trained by MMEngine's Runner (``tools/train.py
configs/cgan/...``), and its weights loaded by the cGAN-KD config.

The real config on the real Fashion-MNIST, shrunk by ``--cfg-options``:
64 images, batch 8, a few iterations.
"""
import os
import os.path as osp

import pytest
import torch
from e2e_utils import (NEEDS_FASHION_MNIST, REPO_ROOT,
                       run_dist_tool, run_tool, scalars)
from mmengine.config import Config

CGAN = 'configs/cgan/dcgan_1xb64_fashion_mnist.py'
CGANKD = 'configs/fashion_mnist/cgankd_vgg8_resnet8_1xb128_fashion_mnist.py'

pytestmark = [pytest.mark.slow, NEEDS_FASHION_MNIST]


def _options(max_iters, discriminator_steps=1):
    return [
        f'train_cfg.max_iters={max_iters}',
        'train_dataloader.batch_size=8',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_dataloader.dataset.indices=64',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=2',
        f'model.discriminator_steps={discriminator_steps}',
        'model.ema_config.start_iter=1',
    ]


def test_the_runner_trains_the_cgan_and_a_cgankd_config_loads_it(tmp_path):
    work = str(tmp_path / 'cgan')
    run_tool('train', CGAN, ['--work-dir', work], _options(4))
    for it in (2, 4):
        assert osp.isfile(osp.join(work, f'iter_{it}.pth'))
    records = [r for r in scalars(work) if 'loss_disc' in r]
    assert [r['iter'] for r in records] == [1, 2, 3, 4]
    # one discriminator update per iteration, the generator every one
    assert all('loss_gen' in r for r in records)
    assert all(torch.isfinite(torch.tensor(r['loss_disc'])) for r in records)

    # --resume continues from the last checkpoint to a longer run
    proc = run_tool('train', CGAN, ['--work-dir', work, '--resume'],
                    _options(6))
    assert 'resumed' in (proc.stdout + proc.stderr).lower()
    state = torch.load(osp.join(work, 'iter_6.pth'), map_location='cpu',
                       weights_only=False)['state_dict']
    assert int(state['iteration']) == 6  # generator updates, all told

    # the second stage: the cGAN-KD config names this recipe, whose cGAN
    # loads these weights strictly (CGANHook.generator_ckpt)
    import cgankd_plugin  # noqa: F401
    from cgankd_plugin.engine.cgan_training import (build_cgan,
                                                    load_cgan_recipe)
    from cgankd_plugin.utils.checkpoint import load_weights_strictly
    hook = Config.fromfile(osp.join(REPO_ROOT, CGANKD)).custom_hooks[0]
    assert hook.cgan == CGAN
    gan = build_cgan(load_cgan_recipe(osp.join(REPO_ROOT, hook.cgan)))
    load_weights_strictly(gan, osp.join(work, 'iter_6.pth'),
                          'CGANHook.generator_ckpt')
    assert int(gan.iteration) == 6


def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(
        tmp_path):
    """Every draw of an iteration is seeded by the iteration (and rank),
    and MMEngine's loop replays the dataloader up to it: 2 + 2 resumed
    iterations make the 4-iteration run's weights exactly."""
    straight, split = str(tmp_path / 'straight'), str(tmp_path / 'split')
    run_tool('train', CGAN, ['--work-dir', straight], _options(4))
    run_tool('train', CGAN, ['--work-dir', split], _options(2))
    run_tool('train', CGAN, ['--work-dir', split, '--resume'], _options(4))
    weights = [
        torch.load(osp.join(work, 'iter_4.pth'), map_location='cpu',
                   weights_only=False)['state_dict']
        for work in (straight, split)
    ]
    assert weights[0].keys() == weights[1].keys()
    for key in weights[0]:
        assert torch.equal(weights[0][key], weights[1][key]), key


def test_with_two_discriminator_steps_the_generator_trains_every_second(
        tmp_path):
    work = str(tmp_path / 'cgan')
    run_tool('train', CGAN, ['--work-dir', work], _options(4, 2))
    records = [r for r in scalars(work) if 'loss_disc' in r]
    assert [r['iter'] for r in records] == [1, 2, 3, 4]
    # MMEngine logs the running mean of the keys a step returned: the
    # generator's appears from iteration 2 on
    assert 'loss_gen' not in records[0] and 'loss_gen' in records[1]
    state = torch.load(osp.join(work, 'iter_4.pth'), map_location='cpu',
                       weights_only=False)['state_dict']
    assert int(state['iteration']) == 2


def test_two_ranks_train_the_cgan_through_dist_train(tmp_path):
    """``tools/dist_train.sh`` with 2 gloo processes: each network in its
    own DDP wrapper, so every discriminator and generator update
    all-reduces its gradients; rank 0's update cannot finish until rank 1
    has computed its own, so a run that finishes is one in which both
    ranks computed the gradients of every update."""
    work = str(tmp_path / 'cgan')

    def dist_train(max_iters, *args):
        proc = run_dist_tool(
            'dist_train',
            [osp.join(REPO_ROOT, CGAN), '2', '--work-dir', work, *args],
            _options(max_iters), timeout=600)
        return proc.stdout + proc.stderr

    output = dist_train(4)
    assert 'Distributed training: True' in output
    dumped = Config.fromfile(osp.join(work, osp.basename(CGAN)))
    assert dumped.model_wrapper_cfg.type == 'MMSeparateDistributedDataParallel'
    records = [r for r in scalars(work) if 'loss_gen' in r]
    assert [r['iter'] for r in records] == [1, 2, 3, 4]
    # saved without the wrappers' prefixes: the cGAN-KD config loads it
    import cgankd_plugin  # noqa: F401
    from cgankd_plugin.engine.cgan_training import (build_cgan,
                                                    load_cgan_recipe)
    from cgankd_plugin.utils.checkpoint import load_weights_strictly
    gan = build_cgan(load_cgan_recipe(osp.join(REPO_ROOT, CGAN)))
    load_weights_strictly(gan, osp.join(work, 'iter_4.pth'),
                          'CGANHook.generator_ckpt')
    assert int(gan.iteration) == 4
    # and the two ranks resume from it
    assert 'resumed' in dist_train(6, '--resume')
    load_weights_strictly(gan, osp.join(work, 'iter_6.pth'),
                          'CGANHook.generator_ckpt')
    assert int(gan.iteration) == 6


@pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="MMEngine's AmpOptimWrapper runs on GPU, NPU, MLU or MUSA only, "
    'and this machine has none (the config change itself: '
    'tests/test_utils/test_tool_config.py)')
def test_the_cgan_trains_with_amp(tmp_path):
    work = str(tmp_path / 'cgan')
    run_tool('train', CGAN, ['--work-dir', work, '--amp'], _options(2))
    records = [r for r in scalars(work) if 'loss_gen' in r]
    assert [r['iter'] for r in records] == [1, 2]
