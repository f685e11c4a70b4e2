# Copyright (c) cgankd_plugin contributors.
"""Two processes (gloo, CPU) through tools/dist_train.sh: the run finishes,
both ranks generate part of the bank (rank r the classes r, r + 2, ...,
as per-class shards), and, given the same cGAN, the bank equals the bank
of a single-process run."""
import os.path as osp

import pytest
from e2e_utils import (REPO_ROOT, cgankd_kd_tiny_options, run_dist_tool,
                       run_tool)

from cgankd_plugin.synthesis import SyntheticBank

CONFIG = ('configs/cgankd/'
          'cgankd_kd_logits_resnet32x4_resnet8x4_1xb128_cifar100.py')


def _top1(stdout: str):
    """The top-1 of the metrics dict tools/test.py prints last."""
    for line in reversed(stdout.splitlines()):
        if line.startswith('{') and 'accuracy/top1' in line:
            return line.split("'accuracy/top1': ")[1].split(',')[0]
    return None


@pytest.mark.slow
def test_two_rank_training_builds_the_single_rank_bank(
        tiny_cifar100, tmp_path):
    options = cgankd_kd_tiny_options(tiny_cifar100)
    single = str(tmp_path / 'single')
    run_tool('train', CONFIG, ['--work-dir', single], options)

    multi = str(tmp_path / 'multi')
    # the single run's cGAN (2 ranks would train another: each draws its
    # own batches); tools/train.py starts gloo itself without a GPU
    cgan = osp.join(single, 'cgan', 'iter_12.pth')
    proc = run_dist_tool(
        'dist_train', [osp.join(REPO_ROOT, CONFIG), '2', '--work-dir', multi],
        options + [f'custom_hooks.0.generator_ckpt={cgan}'])
    assert osp.exists(osp.join(multi, 'epoch_1.pth'))
    bank = SyntheticBank.open(osp.join(multi, 'synthetic_bank'))
    reference = SyntheticBank.open(osp.join(single, 'synthetic_bank'))
    assert bank.content_hash() == reference.content_hash()
    # both ranks drew their half of the 100 classes (one sample each)
    assert bank.meta['world_size'] == 2
    output = proc.stdout + proc.stderr
    assert 'bank: 100 samples from' in output
    assert 'built by 2 rank(s)' in output
    assert not osp.exists(osp.join(multi, 'synthetic_bank.build'))

    # tools/test.py through tools/dist_test.sh, on CPU too: the two ranks
    # evaluate the checkpoint to the one-process figure
    checkpoint = osp.join(multi, 'epoch_1.pth')
    one = run_tool('test', CONFIG, [checkpoint, '--work-dir',
                                    str(tmp_path / 'test_single')], options)
    proc = run_dist_tool('dist_test', [
        osp.join(REPO_ROOT, CONFIG), checkpoint, '2', '--work-dir',
        str(tmp_path / 'test_multi')
    ], options, timeout=600)
    top1 = _top1(one.stdout)
    assert top1 is not None and _top1(proc.stdout) == top1
