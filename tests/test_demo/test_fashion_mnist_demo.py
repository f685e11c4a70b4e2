# Copyright (c) cgankd_plugin contributors.
"""``python -m demo.fashion_mnist --smoke`` end to end on the real
Fashion-MNIST, and the parts of the demo project."""
import json
import os
import re
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA_ROOT = os.path.join(REPO_ROOT, 'data', 'fashion_mnist')
ROW = re.compile(r'^\| (?P<row>[a-z_]+) \| (?P<model>[^|]+) \| '
                 r'(?P<data>[^|]+) \| (?P<value>[0-9.]+) \| '
                 r'(?P<seed0>[0-9.]+) \| (?P<time>[^|]+) \|$')

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
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    proc = subprocess.run(
        [sys.executable, '-m', 'demo.fashion_mnist', '--smoke',
         '--work-dir', str(work_dir), *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout


def table_rows(text):
    return [m.groupdict() for m in map(ROW.match, text.splitlines()) if m]


CLASSIFICATION_ROWS = [
    'teacher', 'student', 'finetune_real', 'finetune_kd', 'cgankd',
    'kd_cgankd', 'real_bank'
]
ROTATION_ROWS = ['teacher', 'student', 'finetune_real', 'cgankd', 'real_bank']


def test_smoke_demo_prints_and_writes_the_results(tmp_path):
    out = run_demo(tmp_path, '--results-dir', str(tmp_path / 'results'))
    rows = table_rows(out)
    assert [row['row'] for row in rows] == CLASSIFICATION_ROWS + ROTATION_ROWS
    for row in rows[:7]:
        assert 0.0 <= float(row['value']) <= 100.0
    for row in rows[7:]:
        # an MAE in degrees of angles in [-45, 45]
        assert 0.0 <= float(row['value']) <= 90.0
    # the smoke subsets, read back from the configs as the stages ran
    datas = [row['data'] for row in rows]
    assert datas.count('first 64 training images x 3') == 3
    assert datas.count('first 64 training images + 32 fake') == 5
    assert '[student] Epoch(train)' in out
    assert 'Gain > 2 SE' in out
    with open(tmp_path / 'results.md') as f:
        assert table_rows(f.read()) == rows
    # shared stages once, the others per seed; fine-tunes start from the
    # student's checkpoint, cGAN-KD students load the shared cGAN
    assert (tmp_path / 'teacher' / 'iter_3.pth').is_file()
    assert (tmp_path / 'cgan' / 'cgan' / 'cgan_final.pth').is_file()
    seed = tmp_path / 'seed_0'
    for stage in ('student', 'finetune_real', 'cgankd', 'real_bank',
                  'student_rotation', 'cgankd_rotation'):
        assert (seed / stage / 'epoch_1.pth').is_file()
    assert not (seed / 'cgankd' / 'cgan' / 'cgan_final.pth').exists()
    record = json.loads((seed / 'kd_cgankd' / 'demo_stage.json').read_text())
    assert f'load_from={seed / "student" / "epoch_1.pth"}' in record[
        'options']
    assert ('custom_hooks.0.generator_ckpt=' +
            str(tmp_path / 'cgan' / 'cgan' / 'cgan_final.pth')
            in record['options'])
    # the pictures: the bank and its filter, the error against the label
    for stage in ('cgankd', 'real_bank', 'cgankd_rotation'):
        for png in ('bank_samples.png', 'filter_histogram.png'):
            assert (seed / stage / 'cgankd_vis' / png).is_file()
    assert (seed / 'error_vs_angle.png').is_file()
    # docs/results-style JSON, one figure per seed and row
    for task, names in (('classification', CLASSIFICATION_ROWS),
                        ('rotation', ROTATION_ROWS)):
        results = json.loads(
            (tmp_path / 'results' / f'{task}.json').read_text())
        assert results['seeds'] == [0] and results['split'] == 'test'
        assert list(results['rows']) == names
        assert all(len(v) == 1 for v in results['rows'].values())
    assert results['metric'] == 'mae' and not results['higher_is_better']

    # A second run finds every stage done and only rebuilds the tables.
    again = run_demo(tmp_path)
    assert again.count(': already done (') == 14
    assert [row['value'] for row in table_rows(again)] == [
        row['value'] for row in rows
    ]
