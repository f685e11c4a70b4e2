# Copyright (c) cgankd_plugin contributors.
"""demo/fashion_mnist/options.py: what each stage is run with."""
import os
import os.path as osp

import pytest

from demo.fashion_mnist import options
from demo.fashion_mnist.run import parse_args
from demo.fashion_mnist.stages import STAGES_BY_NAME, stage_dir


def merged(stage_name, opts):
    return options.load_config(STAGES_BY_NAME[stage_name], opts)


def test_a_shortened_schedule_keeps_its_shape():
    """--quick: the teacher's warm-up and cosine end where the run ends;
    the students' decays fall at the same fractions of the run."""
    teacher = STAGES_BY_NAME['teacher']
    opts = options.scaled_schedule_options(
        options.load_config(teacher), 0.4)
    cfg = merged('teacher', opts)
    total = int(cfg.train_cfg.max_iters)
    assert total == round(1290 * 0.4)
    assert int(cfg.train_cfg.val_interval) == total
    assert int(cfg.default_hooks.checkpoint.interval) == total
    warmup, cosine = cfg.param_scheduler
    assert int(warmup.begin) == 0
    assert int(warmup.end) == int(cosine.begin) == round(60 * 0.4)
    assert int(cosine.end) == total

    student = STAGES_BY_NAME['student']
    cfg = merged('student', options.scaled_schedule_options(
        options.load_config(student), 0.5))
    assert int(cfg.train_cfg.max_epochs) == 40
    assert str(cfg.param_scheduler.milestones) == '[25,30,35]'


def test_the_cgan_hook_is_found_by_its_type():
    cfg = options.load_config(STAGES_BY_NAME['cgankd'])
    key = options.cgan_hook_key(cfg)
    assert key == 'custom_hooks.0'
    assert options.cgan_hook_key(
        options.load_config(STAGES_BY_NAME['student'])) is None


def _checkpoints(root, *names, seed=0):
    """Fake finished stages: a checkpoint and MMEngine's record of it."""
    for name in names:
        work_dir = stage_dir(str(root), STAGES_BY_NAME[name], seed)
        ckpt = osp.join(work_dir, 'iter_1.pth')
        os.makedirs(work_dir, exist_ok=True)
        open(ckpt, 'w').close()
        with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
            f.write(ckpt)


def test_quick_options_of_the_cgankd_stages(tmp_path):
    """Shared banks share one cDR-RS cache; --quick turns cDR-RS off and
    trains the cGAN a third as long; dependencies come from the
    checkpoints their stages recorded."""
    _checkpoints(tmp_path, 'teacher', 'student')
    args = parse_args(['--quick'])
    opts = options.stage_options(STAGES_BY_NAME['kd_cgankd'], str(tmp_path),
                                 args, 0)
    assert ('custom_hooks.0.density_ratio_cache=' +
            osp.join(tmp_path, 'banks', 'density_ratio')) in opts
    assert ('train_dataloader.dataset.bank_dir=' +
            osp.join(tmp_path, 'banks', 'kd_cgankd')) in opts
    assert 'custom_hooks.0.subsample=None' in opts
    assert 'custom_hooks.0.gan_iters=4000' in opts  # a third of 12,000
    assert ('load_from=' + osp.join(tmp_path, 'seed_0', 'student',
                                    'iter_1.pth')) in opts
    assert ('model.teacher_ckpt=' +
            osp.join(tmp_path, 'teacher', 'iter_1.pth')) in opts
    assert STAGES_BY_NAME['kd_cgankd'].after == 'cgankd'
    # the full run keeps cDR-RS for the students' banks
    full = options.stage_options(STAGES_BY_NAME['cgankd'], str(tmp_path),
                                 parse_args([]), 0)
    assert not any('subsample' in o for o in full)


def test_a_missing_dependency_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="'student'"):
        options.stage_options(STAGES_BY_NAME['finetune_real'],
                              str(tmp_path), parse_args([]), 0)


def test_the_help_prints(capsys):
    with pytest.raises(SystemExit) as done:
        parse_args(['--help'])
    assert done.value.code == 0
    assert '--quick' in capsys.readouterr().out
