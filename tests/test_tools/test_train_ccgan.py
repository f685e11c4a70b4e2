# Copyright (c) cgankd_plugin contributors.
"""The regression demo's CcGAN trained by MMEngine's Runner.

``tools/train.py configs/cgan/ccgan_...`` (VicinalBatchSampler's draws)
and the one-command path of the regression cGAN-KD config (the same
recipe by a nested Runner), on the real rotated Fashion-MNIST shrunk by
``--cfg-options``: 64 images, batch 8, a few iterations.
"""
import os.path as osp

import numpy as np
import pytest
import torch
from e2e_utils import (FASHION_MNIST, NEEDS_FASHION_MNIST, REPO_ROOT,
                       fashion_mnist_bank_options, run_dist_tool, run_tool,
                       scalars)
from mmengine.config import Config

CCGAN = 'configs/cgan/ccgan_1xb64_rotated_fashion_mnist.py'
CGANKD = ('configs/fashion_mnist/'
          'cgankd_vgg8_resnet8_1xb128_rotated_fashion_mnist.py')
DATA = FASHION_MNIST

pytestmark = [pytest.mark.slow, NEEDS_FASHION_MNIST]


def _options(max_iters):
    return [
        f'train_cfg.max_iters={max_iters}',
        'train_dataloader.batch_size=8',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_dataloader.dataset.dataset.indices=64',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=2',
        'model.discriminator_steps=2',
        'model.ema_config.start_iter=1',
    ]


def _state(work, it):
    return torch.load(osp.join(work, f'iter_{it}.pth'), map_location='cpu',
                      weights_only=False)['state_dict']


def test_the_runner_trains_the_ccgan_on_vicinal_draws(tmp_path):
    work = str(tmp_path / 'ccgan')
    run_tool('train', CCGAN, ['--work-dir', work], _options(4))
    records = [r for r in scalars(work) if 'loss_disc' in r]
    assert [r['iter'] for r in records] == [1, 2, 3, 4]
    assert 'loss_gen' not in records[0] and 'loss_gen' in records[1]
    assert all(np.isfinite(r['loss_disc']) for r in records)
    state = _state(work, 4)
    assert int(state['iteration']) == 2  # generator updates
    # the model records the rule-of-thumb vicinity the sampler drew with,
    # computed from the labels of the 64 training images (kappa=-2)
    import cgankd_plugin  # noqa: F401
    from cgankd_plugin.models.generators.vicinity import (
        rule_of_thumb_kappa, rule_of_thumb_sigma)
    from cgankd_plugin.registry import DATASETS
    cfg = Config.fromfile(osp.join(REPO_ROOT, CCGAN))
    real = DATASETS.build(dict(cfg.train_dataloader.dataset,
                               dataset=dict(cfg.train_dataloader.dataset
                                            .dataset, data_root=DATA,
                                            indices=64)))
    assert float(state['vicinity_kappa']) == pytest.approx(
        rule_of_thumb_kappa(real.labels, 2.0))
    assert float(state['vicinity_sigma']) == pytest.approx(
        rule_of_thumb_sigma(real.labels))

    # the second stage: the cGAN-KD config names this recipe, whose
    # CcGAN loads these weights (CGANHook.generator_ckpt)
    from cgankd_plugin.engine.cgan_training import (build_cgan,
                                                    load_cgan_recipe)
    from cgankd_plugin.utils.checkpoint import load_weights_strictly
    hook = Config.fromfile(osp.join(REPO_ROOT, CGANKD)).custom_hooks[0]
    assert hook.cgan == CCGAN
    gan = build_cgan(load_cgan_recipe(osp.join(REPO_ROOT, hook.cgan)))
    load_weights_strictly(gan, osp.join(work, 'iter_4.pth'),
                          'CGANHook.generator_ckpt')
    assert gan.kappa == pytest.approx(float(state['vicinity_kappa']))


def test_a_resumed_ccgan_run_ends_with_the_uninterrupted_weights(tmp_path):
    straight, split = str(tmp_path / 'straight'), str(tmp_path / 'split')
    run_tool('train', CCGAN, ['--work-dir', straight], _options(4))
    run_tool('train', CCGAN, ['--work-dir', split], _options(2))
    run_tool('train', CCGAN, ['--work-dir', split, '--resume'], _options(4))
    weights = [_state(work, 4) for work in (straight, split)]
    assert weights[0].keys() == weights[1].keys()
    for key in weights[0]:
        assert torch.equal(weights[0][key], weights[1][key]), key


def test_two_ranks_train_the_ccgan_through_dist_train(tmp_path):
    """2 gloo ranks, each network in its own DDP wrapper: every update
    all-reduces, so a finished run is one in which both ranks computed
    the gradients of every update, each on its own vicinal draws."""
    work = str(tmp_path / 'ccgan')
    proc = run_dist_tool('dist_train',
                         [osp.join(REPO_ROOT, CCGAN), '2', '--work-dir', work],
                         _options(4), timeout=600)
    assert 'Distributed training: True' in proc.stdout + proc.stderr
    records = [r for r in scalars(work) if 'loss_disc' in r]
    assert [r['iter'] for r in records] == [1, 2, 3, 4]
    assert int(_state(work, 4)['iteration']) == 2


def test_one_command_trains_the_ccgan_recipe_then_the_student(
        tmp_path):
    import cgankd_plugin  # noqa: F401
    from cgankd_plugin.registry import MODELS
    from cgankd_plugin.synthesis import SyntheticBank
    work = str(tmp_path / 'run')
    cfg = Config.fromfile(osp.join(REPO_ROOT, CGANKD))
    teacher = str(tmp_path / 'teacher.pth')
    torch.manual_seed(0)
    torch.save(dict(state_dict=MODELS.build(cfg.model.teacher).state_dict()),
               teacher)
    options = [f'{k}={v}' for k, v in fashion_mnist_bank_options(
        cgan_real_set='train_dataloader.dataset.dataset').items()]
    options += [
        f'model.teacher_ckpt={teacher}',
        'custom_hooks.0.cgan_cfg_options.train_dataloader.batch_size=8',
        'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1',
    ]
    run_tool('train', CGANKD, ['--work-dir', work], options)
    cgan_dir = osp.join(work, 'cgan')
    # the recipe's Runner: 4 generator steps of 1 discriminator step each,
    # on vicinal draws, its losses in its own scalars
    assert osp.isfile(osp.join(cgan_dir, 'iter_4.pth'))
    records = [r for r in scalars(cgan_dir) if 'loss_disc' in r]
    assert [r['iter'] for r in records] == [1, 2, 3, 4]
    assert all('loss_gen' in r for r in records)
    bank = SyntheticBank.open(osp.join(work, 'synthetic_bank'), verify=True)
    assert len(bank) == 200
    assert osp.isfile(osp.join(work, 'epoch_1.pth'))
