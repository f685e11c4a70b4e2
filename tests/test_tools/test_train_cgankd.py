# Copyright (c) cgankd_plugin contributors.
"""cGAN-KD end to end through ``tools/train.py`` on a tiny CIFAR-100.

The real configs, shrunk by ``--cfg-options``: 100 real images (one per
class), ResNet-8 teacher and student, a width-4 BigGAN trained 12
iterations (3 generator steps), a bank of 100 fake samples, batch 16, one epoch. The CRD run
is resumed for a second epoch (the bank and the cGAN must be reused, not
rebuilt); a KD run trains on a soft-label bank meanwhile.

The runs are started with one OpenMP thread: on a busy 2-core machine two
threads made a step of the tiny cGAN 30x slower (spinning threads).
"""
import glob
import math
import os
import os.path as osp
import subprocess
import sys
import time

import numpy as np
import pytest
from e2e_utils import (REPO_ROOT, cifar_cgan_options, cifar_shrink_options,
                       scalars)

from cgankd_plugin.synthesis import SyntheticBank

CRD = 'configs/cgankd/crd_resnet_cifar100.py'
KD = 'configs/cgankd/cgankd_kd_logits_resnet32x4_resnet8x4_1xb128_cifar100.py'
NUM_REAL = 100
NUM_FAKE = 100
BATCH = 16
ITERS_PER_EPOCH = math.ceil((NUM_REAL + NUM_FAKE) / BATCH)


def _tiny(root: str, real_set: str, mix: str) -> list:
    """``--cfg-options`` shrinking a cGAN-KD CIFAR-100 config."""
    return cifar_shrink_options(
        root, batch_size=BATCH, train_dataset=real_set) + [
            'train_cfg.val_begin=1000',  # no validation
            'model.teacher_ckpt=None',
            'load_from=None',
            'model.teacher.backbone.arch=resnet8',
            'model.teacher.head.in_channels=64',
            'model.architecture.backbone.arch=resnet8',
            'model.architecture.head.in_channels=64',
            f'{mix}.num_fake={NUM_FAKE}',
            *cifar_cgan_options(root, max_iters=12, checkpoint_interval=4),
            'custom_hooks.0.bank_batch_size=4',
            'custom_hooks.0.filter.burn_in=4',
            'custom_hooks.0.subsample=None',
            'custom_hooks.0.quality_samples=16',
        ]


def _crd_options(root: str, max_epochs: int = 1) -> list:
    return _tiny(root, 'train_dataloader.dataset.dataset.dataset',
                 'train_dataloader.dataset.dataset') + [
                     'model.distiller.connectors.loss_crd_stu.dim_in=64',
                     'model.distiller.connectors.loss_crd_tea.dim_in=64',
                     'model.distiller.distill_losses.loss_crd.neg_num=64',
                     'train_dataloader.dataset.neg_num=64',
                     f'train_cfg.max_epochs={max_epochs}',
                 ]


def _kd_options(root: str) -> list:
    return _tiny(root, 'train_dataloader.dataset.dataset',
                 'train_dataloader.dataset') + ['custom_hooks.0.relabel=soft']


def _start(config: str, work_dir: str, options: list,
           args: tuple = ()) -> tuple:
    """``tools/train.py`` in a fresh interpreter, output to a file."""
    os.makedirs(work_dir, exist_ok=True)
    out_path = osp.join(work_dir, f'console_{time.time_ns()}.txt')
    cmd = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'),
           osp.join(REPO_ROOT, config), '--work-dir', work_dir, *args,
           '--cfg-options', *options]
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    out = open(out_path, 'w')
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                            env=env, cwd=REPO_ROOT)
    proc.out, proc.out_path = out, out_path
    return proc


def _finish(proc, timeout: float = 400) -> str:
    """Wait for a run; its console output, or a failure showing its end."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.out.close()
    with open(proc.out_path) as f:
        text = f.read()
    if proc.returncode != 0:
        raise AssertionError(f'train.py failed ({proc.returncode}):\n'
                             f'{text[-6000:]}')
    return text


def _bank_files(bank_dir: str) -> dict:
    return {
        name: os.stat(osp.join(bank_dir, name)).st_mtime_ns
        for name in sorted(os.listdir(bank_dir))
    }


def _train_records(records: list) -> list:
    return [r for r in records if 'loss' in r]


def _assert_finite_losses(records: list, loss_key: str) -> None:
    assert records
    for record in records:
        assert loss_key in record, record
        for key, value in record.items():
            if 'loss' in key:
                assert math.isfinite(value), (key, record)


@pytest.fixture(scope='module')
def runs(tiny_cifar100, tmp_path_factory):
    """The CRD run, its resumed second epoch, and the KD soft run beside."""
    started = time.time()
    crd_dir = str(tmp_path_factory.mktemp('crd'))
    kd_dir = str(tmp_path_factory.mktemp('kd_soft'))
    kd = _start(KD, kd_dir, _kd_options(tiny_cifar100))
    try:
        first_log = _finish(_start(CRD, crd_dir,
                                   _crd_options(tiny_cifar100)))
        bank_dir = osp.join(crd_dir, 'synthetic_bank')
        first = dict(
            log=first_log,
            records=scalars(crd_dir),
            bank_files=_bank_files(bank_dir),
            cgan_mtime=os.stat(osp.join(crd_dir, 'cgan',
                                        'iter_12.pth')).st_mtime_ns)
        resumed_log = _finish(
            _start(CRD, crd_dir, _crd_options(tiny_cifar100, max_epochs=2),
                   args=('--resume', )))
    finally:
        kd_log = _finish(kd)
    wall = time.time() - started
    print(f'\ncgankd e2e runs: {wall:.0f} s')
    return dict(crd_dir=crd_dir, kd_dir=kd_dir, first=first,
                resumed_log=resumed_log, kd_log=kd_log)


@pytest.mark.slow
def test_crd_cgankd_trains_on_real_and_fake(runs):
    crd_dir, first = runs['crd_dir'], runs['first']
    train = _train_records(first['records'])
    assert len(train) == ITERS_PER_EPOCH, first['records']
    _assert_finite_losses(train, 'distill.loss_crd')
    assert osp.isfile(osp.join(crd_dir, 'epoch_1.pth'))
    log = first['log']
    # CRD's memory holds every real and fake sample
    assert ('memory bank resized from 50000 to '
            f'{NUM_REAL + NUM_FAKE}') in log, log[-3000:]
    # the cGAN recipe trained by a nested Runner in <work_dir>/cgan: 12
    # iterations (3 generator steps of 4 discriminator steps), its losses
    # in that Runner's scalars
    assert osp.isfile(osp.join(crd_dir, 'cgan', 'iter_12.pth'))
    cgan = [r for r in scalars(osp.join(crd_dir, 'cgan')) if 'loss_disc' in r]
    assert [r['iter'] for r in cgan] == list(range(1, 13))
    _assert_finite_losses(cgan, 'loss_disc')
    # the generator's first update at the 4th (its loss then logged on)
    assert [r['iter'] for r in cgan if 'loss_gen' in r] == list(range(4, 13))
    assert f'bank of {NUM_FAKE} samples written' in log
    bank = SyntheticBank.open(osp.join(crd_dir, 'synthetic_bank'),
                              verify=True)
    assert len(bank) == NUM_FAKE
    assert bank.images.shape == (NUM_FAKE, 3, 32, 32)
    np.testing.assert_array_equal(bank.cond_labels, np.arange(NUM_FAKE))
    # the official bank of a KD-stacked run: not relabelled
    assert bank.meta['relabel'] == 'none'
    np.testing.assert_array_equal(bank.teacher_labels, bank.cond_labels)
    assert not osp.exists(osp.join(crd_dir, 'synthetic_bank.partial'))
    for name in ('bank_samples.png', 'filter_histogram.png'):
        path = osp.join(crd_dir, 'cgankd_vis', name)
        assert osp.getsize(path) > 0, path


@pytest.mark.slow
def test_resume_reuses_the_bank_and_the_cgan(runs):
    crd_dir, first, log = runs['crd_dir'], runs['first'], runs['resumed_log']
    assert 'complete and matches; reusing it' in log, log[-3000:]
    assert '(12 iterations) is reused' in log, log[-3000:]
    # not retrained: the cGAN's Runner ran once, in the first run
    assert len(glob.glob(osp.join(crd_dir, 'cgan', '2*', ''))) == 1
    assert 'bank: ' not in log and 'samples written' not in log
    bank_dir = osp.join(crd_dir, 'synthetic_bank')
    assert _bank_files(bank_dir) == first['bank_files']
    assert os.stat(osp.join(crd_dir, 'cgan',
                            'iter_12.pth')).st_mtime_ns == \
        first['cgan_mtime']
    assert 'Auto resumed from the latest checkpoint' in log or \
        'resumed epoch: 1' in log, log[-3000:]
    assert osp.isfile(osp.join(crd_dir, 'epoch_2.pth'))
    train = _train_records(scalars(crd_dir))
    assert len(train) == 2 * ITERS_PER_EPOCH
    _assert_finite_losses(train, 'distill.loss_crd')


@pytest.mark.slow
def test_kd_trains_on_a_soft_label_bank(runs):
    kd_dir, log = runs['kd_dir'], runs['kd_log']
    train = _train_records(scalars(kd_dir))
    assert len(train) == ITERS_PER_EPOCH
    _assert_finite_losses(train, 'distill.loss_kd')
    assert osp.isfile(osp.join(kd_dir, 'epoch_1.pth'))
    bank = SyntheticBank.open(osp.join(kd_dir, 'synthetic_bank'))
    assert bank.meta['relabel'] == 'soft'
    probs = np.asarray(bank.teacher_probs)
    assert probs.shape == (NUM_FAKE, 100)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-4)
    np.testing.assert_array_equal(probs.argmax(1), bank.teacher_labels)
    assert f'bank of {NUM_FAKE} samples written' in log
