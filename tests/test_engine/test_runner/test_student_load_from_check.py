# Copyright (c) cgankd_plugin contributors.
"""A cGAN-KD fine-tune without its no-KD student stops at once.

The paper's configs start from the converged no-KD student at the path
its ``configs/teachers/`` config writes; without it the run stops before
anything is built, naming that config.
"""
import os
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from cgankd_plugin.engine.cgan_stage_checks import check_load_from

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))


def test_the_main_job_without_a_student_names_the_config_that_makes_it(
        tmp_path):
    # run where nothing is trained yet: no work_dirs, no data, no teacher
    cmd = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'),
           osp.join(REPO_ROOT, 'configs', 'cgankd', 'crd_resnet_cifar100.py')]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          cwd=str(tmp_path),
                          env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert ("load_from: 'work_dirs/resnet8x4_cifar100/epoch_240.pth' does "
            'not exist') in out
    assert 'python tools/train.py configs/teachers/resnet8x4_cifar100.py' \
        in out
    # it stopped before the model (and its teacher checkpoint) was built
    assert 'teacher_ckpt' not in out
    assert not osp.exists(tmp_path / 'work_dirs' / 'crd_resnet_cifar100'
                          / 'cgan')


def test_none_a_file_or_a_resume_pass(tmp_path):
    check_load_from(Config(dict(load_from=None)))
    student = tmp_path / 'student.pth'
    student.write_bytes(b'x')
    check_load_from(Config(dict(load_from=str(student))))
    check_load_from(Config(dict(load_from='missing.pth', resume=True)))


def test_a_path_outside_work_dirs_names_no_config(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        check_load_from(Config(dict(load_from=str(tmp_path / 's.pth'))))
    assert 'load_from=None' in str(error.value)
    assert 'tools/train.py' not in str(error.value)
