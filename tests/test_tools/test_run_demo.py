# Copyright (c) cgankd_plugin contributors.
"""``tools/run_demo.py --smoke`` end to end on the real Fashion-MNIST."""
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


def test_smoke_demo_prints_and_writes_the_table(tmp_path):
    out = run_demo(tmp_path)
    rows = table_rows(out)
    assert [row['model'] for row in rows] == [
        'vgg8 (teacher)', 'resnet8 (student alone)',
        'resnet8 + KD from vgg8 (tau 4)'
    ]
    for row in rows:
        assert 0.0 <= float(row['top1']) <= 100.0
    # the smoke subsets, read back from the configs as the stages ran
    assert all(row['data'] == 'first 64 training images' for row in rows)
    assert '[teacher] Iter(train)' in out
    with open(tmp_path / 'results.md') as f:
        assert table_rows(f.read()) == rows
    for stage in ('teacher', 'student', 'student_kd'):
        assert (tmp_path / stage / 'iter_3.pth').is_file()

    # A second run finds every stage done and only rebuilds the table.
    again = run_demo(tmp_path)
    assert again.count(': already done (') == 3
    assert [row['top1'] for row in table_rows(again)] == [
        row['top1'] for row in rows
    ]
