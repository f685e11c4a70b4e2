# Copyright (c) cgankd_plugin contributors.
"""One command, the cGAN trained by a Runner: ``gan_trainer='runner'``.

``tools/train.py`` (and ``tools/dist_train.sh`` on 2 gloo ranks) on the
KD + cGAN-KD CIFAR-100 config over a tiny CIFAR-100, shrunk as in
``test_dist_train.py``, with ``custom_hooks.0.gan_trainer=runner`` (the
CIFAR-100 configs' own setting, which those options switch off): the
cGAN (3 generator steps of 4 discriminator steps: 12 Runner iterations)
trains under its own Runner in ``<work_dir>/cgan/runner`` before the
student's runner is built, then the bank and the student as usual; a run
again finds the weights and trains nothing.
"""
import glob
import os
import os.path as osp

import pytest
from e2e_utils import (REPO_ROOT, cgankd_kd_tiny_options, run_dist_tool,
                       run_tool, scalars)

from cgankd_plugin.synthesis import SyntheticBank

CONFIG = ('configs/cgankd/'
          'cgankd_kd_logits_resnet32x4_resnet8x4_1xb64_cifar100.py')

pytestmark = pytest.mark.slow


def _options(data_root: str) -> list:
    return cgankd_kd_tiny_options(data_root) + [
        'custom_hooks.0.gan_trainer=runner',
        'custom_hooks.0.gan_checkpoint_interval=2',
    ]


def _gan_records(work_dir: str) -> list:
    return [r for r in scalars(osp.join(work_dir, 'cgan', 'runner'))
            if 'loss_disc' in r]


def test_the_runner_trains_the_cgan_then_the_student(tiny_cifar100,
                                                     tmp_path):
    work = str(tmp_path / 'run')
    proc = run_tool('train', CONFIG, ['--work-dir', work],
                    _options(tiny_cifar100))
    log = proc.stdout + proc.stderr
    runner_dir = osp.join(work, 'cgan', 'runner')
    # checkpoints every 2 generator steps (8 iterations) and at the end
    assert osp.isfile(osp.join(runner_dir, 'iter_8.pth'))
    assert osp.isfile(osp.join(runner_dir, 'iter_12.pth'))
    records = _gan_records(work)
    assert [r['iter'] for r in records][-1] == 12
    weights = osp.join(work, 'cgan', 'cgan_final.pth')
    assert f'CGANHook: cGAN loaded from {weights}' in log
    assert 'cGAN: iter' not in log  # the hook's own trainer did not run
    bank = SyntheticBank.open(osp.join(work, 'synthetic_bank'), verify=True)
    assert len(bank) == 100
    assert osp.isfile(osp.join(work, 'epoch_1.pth'))

    # a second run finds the weights: no cGAN training, the same bank
    stamp = os.stat(weights).st_mtime_ns
    runs = sorted(glob.glob(osp.join(runner_dir, '2*')))
    again = run_tool('train', CONFIG, ['--work-dir', work],
                     _options(tiny_cifar100))
    assert os.stat(weights).st_mtime_ns == stamp
    assert sorted(glob.glob(osp.join(runner_dir, '2*'))) == runs
    assert 'complete and matches; reusing it' in again.stdout + again.stderr


def test_two_ranks_train_the_cgan_then_split_the_bank(tiny_cifar100,
                                                      tmp_path):
    work = str(tmp_path / 'multi')
    run_dist_tool('dist_train',
                  [osp.join(REPO_ROOT, CONFIG), '2', '--work-dir', work],
                  _options(tiny_cifar100))
    # the cGAN's Runner ran distributed: each network in a DDP wrapper
    # all-reduces every update, so the 12 iterations finished only with
    # both ranks computing gradients
    gan_logs = glob.glob(osp.join(work, 'cgan', 'runner', '*', '*.log'))
    assert len(gan_logs) == 1
    with open(gan_logs[0]) as f:
        gan_log = f.read()
    assert 'Distributed training: True' in gan_log
    assert 'GPU number: 2' in gan_log  # MMEngine's name for the world size
    assert [r['iter'] for r in _gan_records(work)][-1] == 12
    bank = SyntheticBank.open(osp.join(work, 'synthetic_bank'))
    assert bank.meta['world_size'] == 2
    assert osp.isfile(osp.join(work, 'epoch_1.pth'))
