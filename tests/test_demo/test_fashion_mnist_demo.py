# Copyright (c) cgankd_plugin contributors.
"""``python -m demo.fashion_mnist --smoke`` end to end on the real
Fashion-MNIST: a run, then a second seed that reuses what is done."""
import json
import os
import re
import subprocess
import sys

import pytest

from cgankd_plugin.synthesis import SyntheticBank

REPO_ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA_ROOT = os.path.join(REPO_ROOT, 'data', 'fashion_mnist')
ROW = re.compile(r'^\| (?P<row>[a-z_]+) \| (?P<value>[0-9.]+)'
                 r'(?: \+- [0-9.]+)? \| (?P<seeds>[0-9. |]+) \|$')
CLASSIFICATION_ROWS = [
    'teacher', 'student', 'finetune_real', 'finetune_kd', 'cgankd',
    'kd_cgankd', 'real_bank'
]
ROTATION_ROWS = ['teacher', 'student', 'finetune_real', 'cgankd', 'real_bank']

pytestmark = [
    pytest.mark.slow,
    # `make test` depends on `make data`, so only a bare checkout skips.
    pytest.mark.skipif(
        not os.path.isfile(
            os.path.join(DATA_ROOT, 't10k-images-idx3-ubyte')),
        reason='Fashion-MNIST not unpacked in data/fashion_mnist '
        '(run `make data`)'),
]


def run_demo(work_dir, *args):
    proc = subprocess.run(
        [sys.executable, '-m', 'demo.fashion_mnist', '--smoke',
         '--work-dir', str(work_dir), *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout


def table_rows(text):
    return [m.groupdict() for m in map(ROW.match, text.splitlines()) if m]


def options(work_dir):
    with open(os.path.join(work_dir, 'demo_stage.json')) as f:
        return json.load(f)['options']


def test_smoke_demo_runs_resumes_and_shares(tmp_path):
    out = run_demo(tmp_path, '--results-dir', str(tmp_path / 'results'))
    rows = table_rows(out)
    assert [r['row'] for r in rows] == CLASSIFICATION_ROWS + ROTATION_ROWS
    assert all(0 <= float(r['value']) <= 100 for r in rows[:7])
    assert all(0 <= float(r['value']) <= 90 for r in rows[7:])  # degrees
    assert 'Gain > 2 SE' in out and 'cGAN quality' in out
    with open(tmp_path / 'results.md') as f:
        assert table_rows(f.read()) == rows
    # the cGANs: configs/cgan/ recipes trained by tools/train.py alone,
    # their final checkpoints loaded by the cGAN-KD students
    seed = tmp_path / 'seed_0'
    for cgan, students in (('cgan', ('cgankd', 'kd_cgankd')),
                           ('cgan_rotation', ('cgankd_rotation', ))):
        assert (tmp_path / cgan / 'iter_3.pth').is_file()
        assert not any(o.startswith('model.teacher_ckpt')
                       for o in options(tmp_path / cgan))
        for student in students:
            assert ('custom_hooks.0.generator_ckpt=' + str(
                tmp_path / cgan / 'iter_3.pth')) in options(seed / student)
            assert not (seed / student / 'cgan' / 'last_checkpoint').exists()
    assert f'load_from={seed / "student" / "epoch_1.pth"}' in options(
        seed / 'kd_cgankd')
    # each bank's pictures and cGAN quality; the error against the angle
    for stage in ('cgankd', 'real_bank', 'cgankd_rotation'):
        for png in ('bank_samples.png', 'filter_histogram.png'):
            assert (seed / stage / 'cgankd_vis' / png).is_file()
    assert (seed / 'cgankd_rotation' / 'cgan' / 'quality.json').is_file()
    assert (seed / 'error_vs_angle.png').is_file()
    for task, names in (('classification', CLASSIFICATION_ROWS),
                        ('rotation', ROTATION_ROWS)):
        results = json.loads(
            (tmp_path / 'results' / f'{task}.json').read_text())
        assert results['seeds'] == [0] and list(results['rows']) == names
    assert results['metric'] == 'mae' and not results['higher_is_better']

    # A second seed: seed 0's and the shared stages are done; seed 1
    # trains its students on the teachers, cGANs and banks of seed 0.
    bank = tmp_path / 'banks' / 'kd_cgankd'
    meta = dict(SyntheticBank.open(str(bank), verify=False).meta)
    again = run_demo(tmp_path, '--seeds', '0', '1')
    assert again.count('(done before)') == 14
    assert again.count('(seed 1): tools/train.py') == 10
    both = table_rows(again)
    assert [r['seeds'].split(' | ')[0] for r in both] == [
        r['value'] for r in rows]
    assert dict(SyntheticBank.open(str(bank), verify=False).meta) == meta
    assert f'train_dataloader.dataset.bank_dir={bank}' in options(
        tmp_path / 'seed_1' / 'kd_cgankd')
    assert ('custom_hooks.0.generator_ckpt=' + str(
        tmp_path / 'cgan' / 'iter_3.pth')) in options(
            tmp_path / 'seed_1' / 'kd_cgankd')
    assert not (tmp_path / 'seed_1' / 'kd_cgankd' /
                'synthetic_bank').exists()
