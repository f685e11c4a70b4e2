# Copyright (c) cgankd_plugin contributors.
"""The Fashion-MNIST cGAN-KD config in one command, as a user runs it.

``tools/train.py`` on the real config and the real data, shrunk by
``--cfg-options``: the config's cGAN recipe
(``configs/cgan/dcgan_1xb64_fashion_mnist.py``) trained 4 iterations by a
nested Runner on 300 images, a bank of 100 samples, one student epoch. A
nonsense or changed cGAN length stops the run, naming the key, before
any cGAN training.
"""
import os.path as osp
import subprocess
import sys

import pytest
from e2e_utils import (NEEDS_FASHION_MNIST, REPO_ROOT, as_cli,
                       fashion_mnist_bank_options, run_dist_tool, run_tool,
                       scalars)

from cgankd_plugin.synthesis import SyntheticBank

CGANKD = 'configs/fashion_mnist/cgankd_vgg8_resnet8_1xb128_fashion_mnist.py'

pytestmark = [pytest.mark.slow, NEEDS_FASHION_MNIST]


def _options(**cgan) -> list:
    options = fashion_mnist_bank_options(100)
    options.update({
        f'custom_hooks.0.cgan_cfg_options.{key}': value
        for key, value in cgan.items()
    })
    return as_cli(options) + [
        'model.teacher_ckpt=None', 'load_from=None', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1'
    ]


def _failing_run(work: str, options: list) -> str:
    cmd = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'),
           osp.join(REPO_ROOT, CGANKD), '--work-dir', work,
           '--cfg-options', *options]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                          cwd=REPO_ROOT)
    assert proc.returncode != 0, proc.stdout[-3000:]
    return proc.stdout + proc.stderr


def test_one_command_trains_the_cgan_recipe_then_builds_the_bank(tmp_path):
    work = str(tmp_path / 'run')
    run_tool('train', CGANKD, ['--work-dir', work], _options())
    cgan = osp.join(work, 'cgan')
    assert osp.isfile(osp.join(cgan, 'iter_4.pth'))
    records = [r for r in scalars(cgan) if 'loss_disc' in r]
    assert [r['iter'] for r in records] == [1, 2, 3, 4]
    assert all('loss_gen' in r for r in records)
    bank = SyntheticBank.open(osp.join(work, 'synthetic_bank'), verify=True)
    assert len(bank) == 100 and bank.images.shape[1:] == (1, 28, 28)
    student = [r for r in scalars(work) if 'student.loss' in r]
    assert student and osp.isfile(osp.join(work, 'epoch_1.pth'))
    # the bank's figures, once, before the first training step
    figures = [r for r in scalars(work) if 'bank/num_samples' in r]
    assert [(r['bank/num_samples'], r['step']) for r in figures] == [(100, 0)]
    assert figures[0]['bank/over_generation'] == pytest.approx(
        bank.meta['over_generation'])

    # the same work dir with a shorter cGAN: stopped, both lengths named
    log = _failing_run(work, _options(**{'train_cfg.max_iters': 2}))
    assert 'trained for 4 iterations but train_cfg.max_iters is 2' in log


@pytest.mark.parametrize('length', [0, -3])
def test_a_nonsense_cgan_length_stops_before_any_training(tmp_path, length):
    work = str(tmp_path / 'run')
    log = _failing_run(work, _options(**{'train_cfg.max_iters': length}))
    assert 'CGANHook.cgan: train_cfg.max_iters' in log, log[-3000:]
    assert not osp.exists(osp.join(work, 'cgan'))


def test_two_ranks_train_the_cgan_recipe_then_the_bank_and_student(
        tmp_path):
    """``tools/dist_train.sh`` with 2 gloo ranks: every rank trains the
    recipe in the nested Runner (each network in its own DDP wrapper, so a
    finished run is one both ranks computed), then draws its share of the
    bank; the student trains on it."""
    work = str(tmp_path / 'run')
    run_dist_tool('dist_train',
                  [osp.join(REPO_ROOT, CGANKD), '2', '--work-dir', work],
                  _options())
    records = [r for r in scalars(osp.join(work, 'cgan')) if 'loss_disc' in r]
    assert [r['iter'] for r in records] == [1, 2, 3, 4]
    bank = SyntheticBank.open(osp.join(work, 'synthetic_bank'), verify=True)
    assert len(bank) == 100 and bank.meta['world_size'] == 2
    assert osp.isfile(osp.join(work, 'epoch_1.pth'))
