# Copyright (c) cgankd_plugin contributors.
"""tools/build_bank.py and tools/browse_bank.py on a real config: reuse,
rebuild when stale (and say why), refuse when corrupt; split over two
processes (torchrun), the same bank."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
from e2e_utils import REPO_ROOT, cgankd_kd_tiny_options, run_tool

from cgankd_plugin.synthesis import SyntheticBank

CONFIG = ('configs/cgankd/'
          'cgankd_kd_logits_resnet32x4_resnet8x4_1xb128_cifar100.py')


def _out(proc) -> str:
    return proc.stdout + proc.stderr


@pytest.mark.slow
def test_build_reuse_rebuild_refuse_and_browse(tiny_cifar100, tmp_path):
    work = str(tmp_path / 'work')
    # the config's no-KD student (load_from) is not needed for a bank
    opts = [o for o in cgankd_kd_tiny_options(tiny_cifar100, num_fake=100)
            if o != 'load_from=None']
    args = ['--work-dir', work]
    bank_dir = osp.join(work, 'synthetic_bank')

    first = run_tool('build_bank', CONFIG, args, opts)
    assert 'bank: ' + bank_dir in _out(first)
    bank = SyntheticBank.open(bank_dir)
    assert len(bank) == 100
    key = bank.key

    again = run_tool('build_bank', CONFIG, args, opts)
    assert 'complete and matches' in _out(again)
    assert '(12 iterations) is reused' in _out(again)  # not retrained

    stale = run_tool('build_bank', CONFIG, args,
                     opts + ['custom_hooks.0.filter.quantile=0.5'])
    assert 'rebuilding the bank' in _out(stale)
    rebuilt = SyntheticBank.open(bank_dir)
    assert rebuilt.key != key and len(rebuilt) == 100

    images = osp.join(bank_dir, 'images.npy')
    with open(images, 'r+b') as f:
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([last[0] ^ 0xFF]))
    cmd = [
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'build_bank.py'),
        osp.join(REPO_ROOT, CONFIG), *args, '--cfg-options', *opts,
        'custom_hooks.0.filter.quantile=0.5'
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT,
                          timeout=600)
    assert proc.returncode != 0
    assert 'BankCorruptError' in proc.stderr and 'images.npy' in proc.stderr

    vis = str(tmp_path / 'vis')
    browse = subprocess.run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'browse_bank.py'),
        osp.join(str(tmp_path), 'work', 'synthetic_bank'), '--out', vis
    ], capture_output=True, text=True, timeout=300)
    assert browse.returncode == 0, browse.stderr
    summary = json.loads(browse.stdout.split('\npictures:')[0])
    assert summary['samples'] == 100 and summary['conditions'] == 100
    assert osp.getsize(osp.join(vis, 'samples.png')) > 0
    assert osp.getsize(osp.join(vis, 'labels.png')) > 0


@pytest.mark.slow
def test_two_processes_build_the_one_process_bank(tiny_cifar100, tmp_path):
    opts = cgankd_kd_tiny_options(tiny_cifar100, num_fake=100)
    one = str(tmp_path / 'one')
    run_tool('build_bank', CONFIG, ['--work-dir', one], opts)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    two = str(tmp_path / 'two')
    # the same cGAN (2 ranks would train another one: each draws its own
    # batches): the bank, given the cGAN, is the same bytes
    opts = opts + [
        f'custom_hooks.0.generator_ckpt={osp.join(one, "cgan", "iter_12.pth")}'
    ]
    cmd = [
        osp.join(osp.dirname(sys.executable), 'torchrun'),
        '--nproc_per_node=2', f'--master_port={port}',
        osp.join(REPO_ROOT, 'tools', 'build_bank.py'),
        osp.join(REPO_ROOT, CONFIG), '--launcher', 'pytorch', '--work-dir',
        two, '--cfg-options', *opts
    ]
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT,
                          timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert 'built by 2 rank(s)' in _out(proc)
    bank = SyntheticBank.open(osp.join(two, 'synthetic_bank'))
    reference = SyntheticBank.open(osp.join(one, 'synthetic_bank'))
    assert bank.content_hash() == reference.content_hash()
    assert bank.meta['world_size'] == 2
