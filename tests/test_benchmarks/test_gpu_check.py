# Copyright (c) cgankd_plugin contributors.
"""benchmarks/gpu_check.py on the CPU: its refusal and its tiny mode.

The tiny mode runs every stage's plumbing (the real tools on the real
configs at tiny widths); stage b is pointed at a folder that is no
checkout of the official code, so it fails, and the run must go on with
the next stages and end with a non-zero status.
"""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO_ROOT, 'benchmarks', 'gpu_check.py')


def _run(args, timeout=600) -> subprocess.CompletedProcess:
    # no GPU, whatever the machine: the script must behave as on a CPU box
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='', OMP_NUM_THREADS='1',
               PYTHONUNBUFFERED='1')
    return subprocess.run([sys.executable, SCRIPT, *args],
                          capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=REPO_ROOT)


def test_refuses_without_cuda(tmp_path):
    proc = _run(['--work-dir', str(tmp_path)], timeout=300)
    assert proc.returncode != 0
    assert 'CUDA is not available' in proc.stderr, proc.stderr[-2000:]
    assert '--device cpu --tiny' in proc.stderr
    assert not os.listdir(tmp_path)  # nothing written
    proc = _run(['--device', 'cpu'], timeout=300)
    assert proc.returncode == 2
    assert '--device cpu runs only with --tiny' in proc.stderr


@pytest.mark.slow
def test_tiny_cpu_run_reports_every_stage_and_goes_on_after_a_failure(
        tmp_path):
    not_official = tmp_path / 'not_official'
    not_official.mkdir()
    out = tmp_path / 'report.json'
    proc = _run([
        '--device', 'cpu', '--tiny', '--work-dir',
        str(tmp_path / 'work'), '--out',
        str(out), '--official',
        str(not_official)
    ])
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output[-4000:]
    assert '[official] FAILED' in proc.stdout
    assert 'FAILED: b step ours, b step official' in proc.stdout
    assert '[crd] done' in proc.stdout  # the stages after it ran

    report = json.loads(out.read_text())
    assert report['mode'] == 'tiny' and report['device'] == 'cpu'
    rows = {r['name']: r for r in report['rows']}
    assert list(rows) == [
        'a cgan fp32', 'a cgan bf16', 'b step ours', 'b step official',
        'c cdr-rs fit', 'd bank build', 'e crd student'
    ]
    assert report['failed'] == ['b step ours', 'b step official']
    assert 'CIFAR-100/BigGAN' in rows['b step official']['error']
    assert rows['a cgan bf16']['status'] == 'skipped'
    for name in ('a cgan fp32', 'e crd student'):
        row = rows[name]
        assert row['status'] == 'ok', row
        assert row['it_per_s'] > 0 and row['images_per_s'] > 0
        assert row['details']['timed_iters'] > 0
        assert row['data_time_ms'] is not None
    assert rows['a cgan fp32']['details']['discriminator_autocast'] == 'off'
    fit, build = rows['c cdr-rs fit'], rows['d bank build']
    assert fit['status'] == 'ok' and fit['seconds'] > 0
    assert fit['details']['epochs'] == 1
    assert fit['details']['num_real'] == 200
    assert build['status'] == 'ok' and build['images_per_s'] > 0
    assert build['details']['generator'] == 'fp32'  # (a)'s cGAN
    assert build['details']['candidates'] >= 100
    # the table went to the console too
    assert 'e crd student' in proc.stdout and 'JSON: ' in proc.stdout
