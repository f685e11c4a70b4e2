# Copyright (c) cgankd_plugin contributors.
"""Kill the real tool anywhere (SIGKILL), run it again: nothing is lost.

The kills are deterministic: each run is started with ``CGANKD_FAULT`` set
to a fault-injection point (:mod:`cgankd_plugin.utils.fault_injection`),
so it kills itself at exactly that place; no test races a kill against a
file appearing. One run is killed during the cGAN's training (its nested
Runner), restarted and killed during the bank build, restarted and killed inside the student's
first checkpoint save (bytes written, not yet renamed), resumed and killed
after the rename but before ``last_checkpoint``, then resumed past a torn
``last_checkpoint`` to the end. Its bank must equal, byte for byte, the
bank of an uninterrupted run, and no stage may redo work already on disk.
"""
import glob
import os
import os.path as osp

import pytest
from e2e_utils import cgankd_kd_tiny_options, run_tool, run_until_killed

from cgankd_plugin.engine.hooks.atomic_checkpoint_hook import \
    checkpoint_problem
from cgankd_plugin.synthesis import SyntheticBank

CONFIG = ('configs/cgankd/'
          'cgankd_kd_logits_resnet32x4_resnet8x4_1xb128_cifar100.py')


def _options(root):
    # the cGAN: 12 iterations, a checkpoint every 4
    return cgankd_kd_tiny_options(root) + ['train_cfg.max_epochs=2']


@pytest.mark.slow
def test_killed_anywhere_the_run_finishes_with_the_same_bank(
        tiny_cifar100, tmp_path):
    ref_dir = str(tmp_path / 'reference')
    run_tool('train', CONFIG, ['--work-dir', ref_dir], _options(tiny_cifar100))
    reference = SyntheticBank.open(osp.join(ref_dir, 'synthetic_bank'))

    work = str(tmp_path / 'killed')
    args = ['--work-dir', work]
    opts = _options(tiny_cifar100)
    partial = osp.join(work, 'synthetic_bank.build')
    epoch_1 = osp.join(work, 'epoch_1.pth')
    pointer = osp.join(work, 'last_checkpoint')

    # 1. killed while the cGAN's nested Runner trains, after its 2nd
    #    checkpoint (iteration 8) is renamed into place
    run_until_killed('train', CONFIG, 'checkpoint.renamed:2', args, opts)
    assert not osp.exists(osp.join(work, 'cgan', 'iter_12.pth'))

    # 2. restarted: resumes the cGAN; killed after the 5th bank shard
    log = run_until_killed('train', CONFIG, 'bank.shard:5', args, opts)
    assert 'resuming the cGAN' in log and 'resumed epoch: 0, iter: ' in log
    assert osp.isfile(osp.join(work, 'cgan', 'iter_12.pth'))
    assert len(glob.glob(osp.join(partial, 'shard_*'))) >= 5

    # 3. restarted: resumes the bank; killed inside the student's first
    #    checkpoint save, its bytes in the temporary file, not renamed
    log = run_until_killed('train', CONFIG, 'checkpoint.temp_written:1',
                           args, opts)
    assert '(12 iterations) is reused' in log  # not retrained
    assert 'resuming a partial build, 5/' in log
    assert not osp.exists(epoch_1) and not osp.exists(pointer)
    assert glob.glob(epoch_1 + '.tmp*')

    # 4. --resume finds no checkpoint: distillation starts again, the bank
    #    is reused; killed after epoch_1.pth is renamed, before
    #    last_checkpoint names it
    bank_files = sorted(glob.glob(osp.join(work, 'synthetic_bank', '*')))
    mtimes = [os.stat(f).st_mtime_ns for f in bank_files]
    log = run_until_killed('train', CONFIG, 'checkpoint.renamed:1',
                           args + ['--resume'], opts)
    assert 'complete and matches' in log
    assert 'training starts from scratch' in log
    assert checkpoint_problem(epoch_1) is None and not osp.exists(pointer)
    assert not glob.glob(epoch_1 + '.tmp*')  # the dead run's temp removed

    # 5. a torn last_checkpoint (as MMEngine's in-place write leaves it):
    #    --resume skips it, resumes epoch 1's checkpoint and finishes
    open(pointer, 'w').close()
    proc = run_tool('train', CONFIG, args + ['--resume'], opts)
    log = proc.stdout + proc.stderr
    assert f'skipped {pointer} (empty)' in log
    assert f'resuming from {epoch_1}' in log
    assert 'resumed epoch: 1' in log
    assert [os.stat(f).st_mtime_ns for f in bank_files] == mtimes
    assert checkpoint_problem(osp.join(work, 'epoch_2.pth')) is None
    with open(pointer) as f:
        assert f.read() == osp.join(work, 'epoch_2.pth')

    bank = SyntheticBank.open(osp.join(work, 'synthetic_bank'))
    assert bank.content_hash() == reference.content_hash()
    assert bank.key == reference.key
