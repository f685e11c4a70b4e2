# Copyright (c) cgankd_plugin contributors.
"""``tools/run_demo.py --smoke`` end to end on the real Fashion-MNIST."""
import importlib.util
import json
import os
import re
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA_ROOT = os.path.join(REPO_ROOT, 'data', 'fashion_mnist')
ROW = re.compile(r'^\| (?P<model>[^|]+) \| (?P<data>[^|]+) \| '
                 r'(?P<top1>[0-9.]+) \| (?P<time>[^|]+) \|$')

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
        [sys.executable,
         os.path.join(REPO_ROOT, 'tools', 'run_demo.py'), '--smoke',
         '--work-dir', str(work_dir), *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout


def table_rows(text):
    return [m.groupdict() for m in map(ROW.match, text.splitlines()) if m]


CLASSIFICATION_MODELS = [
    'vgg8 (teacher)', 'resnet8 (student alone)',
    'resnet8 + KD from vgg8 (tau 4)', 'resnet8 + cGAN-KD',
    'resnet8 + KD + cGAN-KD'
]
REGRESSION_MODELS = [
    'vgg8 (teacher)', 'resnet8 (student alone)', 'resnet8 + cGAN-KD (CcGAN)'
]


def test_smoke_demo_prints_and_writes_the_tables(tmp_path):
    out = run_demo(tmp_path)
    rows = table_rows(out)
    assert [row['model'] for row in rows
            ] == CLASSIFICATION_MODELS + REGRESSION_MODELS
    for row in rows[:5]:
        assert 0.0 <= float(row['top1']) <= 100.0
    for row in rows[5:]:
        # an MAE in degrees of angles in [-45, 45]
        assert 0.0 <= float(row['top1']) <= 90.0
    # the smoke subsets, read back from the configs as the stages ran
    datas = [row['data'] for row in rows]
    assert datas.count('first 64 training images') == 5
    assert datas.count('first 64 training images + 32 cGAN samples') == 3
    assert '[teacher] Iter(train)' in out
    assert 'regression/mae' in out
    with open(tmp_path / 'results.md') as f:
        assert table_rows(f.read()) == rows
    stages = ('teacher', 'student', 'student_kd', 'student_cgankd',
              'student_kd_cgankd', 'teacher_rotation', 'student_rotation',
              'student_rotation_cgankd')
    for stage in stages:
        assert (tmp_path / stage / 'iter_3.pth').is_file()
    # the pictures: the bank and its filter, the error against the label
    for stage in ('student_cgankd', 'student_rotation_cgankd'):
        for png in ('bank_samples.png', 'filter_histogram.png'):
            assert (tmp_path / stage / 'cgankd_vis' / png).is_file()
    assert (tmp_path / 'error_vs_angle.png').is_file()
    # KD + cGAN-KD reused the cGAN and the bank of the cGAN-KD stage
    assert not (tmp_path / 'student_kd_cgankd' / 'synthetic_bank').exists()
    assert not (tmp_path / 'student_kd_cgankd' / 'cgan' /
                'cgan_final.pth').exists()
    with open(tmp_path / 'results.json') as f:
        assert len(json.load(f)['0']) == len(stages)

    # A second run finds every stage done and only rebuilds the tables.
    again = run_demo(tmp_path)
    assert again.count(': already done (') == len(stages)
    assert [row['top1'] for row in table_rows(again)] == [
        row['top1'] for row in rows
    ]


def _load_run_demo():
    spec = importlib.util.spec_from_file_location(
        'run_demo', os.path.join(REPO_ROOT, 'tools', 'run_demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_stage_brings_the_stages_it_needs():
    demo = _load_run_demo()
    names = [stage.name for stage in demo.needed_stages(['student_kd_cgankd'])]
    assert names == ['teacher', 'student_cgankd', 'student_kd_cgankd']
    assert len(demo.needed_stages(None)) == len(demo.STAGES)


def test_tables_over_seeds_give_mean_and_sample_std():
    demo = _load_run_demo()

    def row(task, model, value):
        return dict(task=task, model=model, data='d', value=value,
                    wall_time=60.0)

    runs = {
        seed: [row('classification', 'a', 80.0 + seed),
               row('regression', 'b', 5.0 * (seed + 1))]
        for seed in (0, 1, 2)
    }
    args = demo.parse_args(['--seeds', '0', '1', '2'])
    text = demo.results_tables(runs, args)
    assert '| a | d | 81.00 +- 1.00 | 1m 00s |' in text
    assert '| b | d | 10.00 +- 5.00 | 1m 00s |' in text
    assert 'mean +- std over seeds 0, 1, 2' in text
    assert 'MAE (degrees), 10,000 test images' in text
