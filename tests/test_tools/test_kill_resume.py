# Copyright (c) cgankd_plugin contributors.
"""Kill the real tool anywhere (SIGKILL), run it again: nothing is lost.

One run is killed during cGAN training, restarted and killed during the
bank build, restarted and killed during distillation, then resumed to the
end. Its bank must equal, byte for byte, the bank of an uninterrupted run
with the same seed, and no stage may redo work already on disk.
"""
import glob
import os
import os.path as osp
import signal
import time

import pytest
from e2e_utils import cgankd_kd_tiny_options, run_tool, start_tool

from cgankd_plugin.synthesis import SyntheticBank

CONFIG = 'configs/cgankd/kd_resnet32x4_resnet8x4_cifar100.py'


def _options(root):
    return cgankd_kd_tiny_options(root) + [
        'custom_hooks.0.gan_iters=12', 'train_cfg.max_epochs=2'
    ]


def _kill_when(proc, done, what: str, timeout: float = 400) -> None:
    """SIGKILL ``proc`` as soon as ``done()`` holds."""
    start = time.time()
    while not done():
        if proc.poll() is not None:
            pytest.fail(f'the run ended (rc={proc.returncode}) before '
                        f'{what}')
        if time.time() - start > timeout:
            proc.kill()
            pytest.fail(f'timed out waiting for {what}')
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def _log(path):
    with open(path) as f:
        return f.read()


@pytest.mark.slow
def test_killed_anywhere_the_run_finishes_with_the_same_bank(
        tiny_cifar100, tmp_path):
    ref_dir = str(tmp_path / 'reference')
    run_tool('train', CONFIG, ['--work-dir', ref_dir], _options(tiny_cifar100))
    reference = SyntheticBank.open(osp.join(ref_dir, 'synthetic_bank'))

    work = str(tmp_path / 'killed')
    args = ['--work-dir', work]
    gan_latest = osp.join(work, 'cgan', 'cgan_latest.pth')
    partial = osp.join(work, 'synthetic_bank.partial')

    # 1. killed while the cGAN trains (after a checkpoint, before the end)
    proc = start_tool('train', CONFIG, str(tmp_path / 'run1.log'), args,
                      _options(tiny_cifar100))
    _kill_when(proc, lambda: osp.exists(gan_latest), 'a cGAN checkpoint')
    assert not osp.exists(osp.join(work, 'cgan', 'cgan_final.pth'))

    # 2. restarted: resumes the cGAN; killed while the bank is built
    proc = start_tool('train', CONFIG, str(tmp_path / 'run2.log'), args,
                      _options(tiny_cifar100))
    _kill_when(proc,
               lambda: len(glob.glob(osp.join(partial, 'chunk_*'))) >= 5,
               'bank chunks on disk')
    assert 'cGAN: resuming from iteration' in _log(tmp_path / 'run2.log')
    chunks_before = len(glob.glob(osp.join(partial, 'chunk_*')))

    # 3. restarted: resumes the bank; killed while the student trains
    proc = start_tool('train', CONFIG, str(tmp_path / 'run3.log'), args,
                      _options(tiny_cifar100))
    _kill_when(proc, lambda: osp.exists(osp.join(work, 'epoch_1.pth')),
               'the first distillation checkpoint')
    log3 = _log(tmp_path / 'run3.log')
    assert 'cGAN: trained weights loaded' in log3  # not retrained
    assert 'resuming a partial build' in log3
    resumed = int(log3.split('resuming a partial build, ')[1].split('/')[0])
    assert resumed >= chunks_before - 1  # chunks of >= 0 samples each

    # 4. --resume: continues distillation, reuses the bank as it is
    bank_files = sorted(glob.glob(osp.join(work, 'synthetic_bank', '*')))
    mtimes = [os.stat(f).st_mtime_ns for f in bank_files]
    proc = run_tool('train', CONFIG, args + ['--resume'],
                    _options(tiny_cifar100))
    assert 'complete and matches' in proc.stdout + proc.stderr
    assert [os.stat(f).st_mtime_ns for f in bank_files] == mtimes
    assert osp.exists(osp.join(work, 'epoch_2.pth'))

    bank = SyntheticBank.open(osp.join(work, 'synthetic_bank'))
    assert bank.content_hash() == reference.content_hash()
    assert bank.key == reference.key
