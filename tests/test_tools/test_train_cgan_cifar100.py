# Copyright (c) cgankd_plugin contributors.
"""The CIFAR-100 BigGAN config trained by the Runner on a tiny CIFAR-100.

``configs/cgan/biggan_1xb512_cifar100.py`` on 100 images in the official
file layout, shrunk by ``--cfg-options`` to width 4 and batch 8; its
4 discriminator steps per generator step are kept.
"""
import os.path as osp

import pytest
import torch
from e2e_utils import REPO_ROOT, run_tool, scalars
from mmengine.config import Config

CGAN = 'configs/cgan/biggan_1xb512_cifar100.py'
CGANKD = 'configs/cgankd/cgankd_resnet32x4_resnet8x4_1xb128_cifar100.py'

pytestmark = pytest.mark.slow


def test_the_runner_trains_the_biggan_and_the_cgankd_config_loads_it(
        tiny_cifar100, tmp_path):
    work = str(tmp_path / 'cgan')
    run_tool('train', CGAN, ['--work-dir', work], [
        'train_cfg.max_iters=8',
        'train_dataloader.batch_size=8',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        f'train_dataloader.dataset.data_root={tiny_cifar100}',
        'train_dataloader.dataset.check_md5=False',
        'model.generator.base_channels=4',
        'model.discriminator.base_channels=4',
        'model.ema_config.start_iter=1',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=4',
    ])
    records = [r for r in scalars(work) if 'loss_disc' in r]
    assert [r['iter'] for r in records] == list(range(1, 9))
    # the generator first updates at the 4th iteration (MMEngine then logs
    # its last value on), and twice in 8: the official 4 discriminator
    # steps per generator step
    assert [r['iter'] for r in records if 'loss_gen' in r] == [4, 5, 6, 7, 8]
    assert all(torch.isfinite(torch.tensor(r['loss_disc'])) for r in records)
    ckpt = osp.join(work, 'iter_8.pth')
    state = torch.load(ckpt, map_location='cpu',
                       weights_only=False)['state_dict']
    assert int(state['iteration']) == 2  # generator updates

    # the cGAN-KD config names this recipe; its cGAN, at the same width,
    # loads them strictly (CGANHook.generator_ckpt)
    import cgankd_plugin  # noqa: F401
    from cgankd_plugin.engine.cgan_training import (build_cgan,
                                                    load_cgan_recipe)
    from cgankd_plugin.utils.checkpoint import load_weights_strictly
    hook = Config.fromfile(osp.join(REPO_ROOT, CGANKD)).custom_hooks[0]
    assert hook.cgan == CGAN
    gan = build_cgan(load_cgan_recipe(
        osp.join(REPO_ROOT, hook.cgan),
        {'model.generator.base_channels': 4,
         'model.discriminator.base_channels': 4}))
    load_weights_strictly(gan, ckpt, 'CGANHook.generator_ckpt')
    assert int(gan.iteration) == 2
