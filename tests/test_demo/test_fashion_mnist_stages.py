# Copyright (c) cgankd_plugin contributors.
"""demo/fashion_mnist/stages.py: the stages and their ``--cfg-options``."""
import argparse
import os
import os.path as osp

import pytest

from cgankd_plugin.engine.runner import cgan_hook_index
from demo.fashion_mnist import stages as demo

CLASSIFICATION_ROWS = [
    'teacher', 'student', 'finetune_real', 'finetune_kd', 'cgankd',
    'kd_cgankd', 'real_bank'
]
ROTATION_ROWS = ['teacher', 'student', 'finetune_real', 'cgankd', 'real_bank']


def args(*seeds, quick=False, smoke=False, real_size=demo.REAL_SIZE):
    return argparse.Namespace(seeds=list(seeds or [0]), quick=quick,
                              smoke=smoke, real_size=real_size)


def finish(root, *names, seed=0, iters=7, real_size=demo.REAL_SIZE):
    """Fake finished stages: a checkpoint and MMEngine's record of it."""
    paths = {}
    for name in names:
        work_dir = demo.stage_dir(str(root), demo.BY_NAME[name], seed,
                                  real_size)
        os.makedirs(work_dir, exist_ok=True)
        paths[name] = osp.join(work_dir, f'iter_{iters}.pth')
        open(paths[name], 'w').close()
        with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
            f.write(paths[name])
    return paths


def merged(name, options):
    """The stage's config as tools/train.py builds it from the options."""
    return demo.load_config(demo.BY_NAME[name].config, options)


def test_the_stages_are_the_configs_users_run():
    """Each task: a cGAN (configs/cgan/) and the rows, every config there;
    the cGAN-KD configs' hook names the cGAN stage's recipe."""
    for task, rows in (('classification', CLASSIFICATION_ROWS),
                       ('rotation', ROTATION_ROWS)):
        stages = [s for s in demo.STAGES if s.task == task]
        assert [s.row for s in stages] == [None] + rows
        assert all(osp.isfile(osp.join(demo.REPO_ROOT, s.config))
                   for s in stages)
        cgan = stages[0]
        assert cgan.config.startswith('configs/cgan/') and cgan.shared
        assert [s.name for s in stages if s.shared] == [
            cgan.name, stages[1].name]  # and the teacher
        for stage in stages:
            hooks = demo.load_config(stage.config).get('custom_hooks')
            index = cgan_hook_index(hooks)
            if 'cgan' in stage.needs:
                assert demo.BY_NAME[stage.needs['cgan']] is cgan
                assert hooks[index]['cgan'] == cgan.config
            elif index is not None:  # the real bank: nothing to train
                assert hooks[index]['cgan']['model']['type'] == \
                    'RealImagePool'
    # the classification banks are shared by the seeds, one after the other
    assert [s.name for s in demo.STAGES if s.shared_bank] == [
        'cgankd', 'kd_cgankd']
    assert demo.BY_NAME['kd_cgankd'].needs['after'] == 'cgankd'


def test_a_cgankd_stage_loads_the_cgan_stage_checkpoint(tmp_path):
    """generator_ckpt: the cGAN stage's final checkpoint; the teacher's
    and the converged student's, as the config's other inputs."""
    ckpts = finish(tmp_path, 'cgan_rotation', 'teacher_rotation')
    ckpts.update(finish(tmp_path, 'student_rotation', seed=3))
    options = demo.stage_options(demo.BY_NAME['cgankd_rotation'],
                                 str(tmp_path), args(3), 3)
    cfg = merged('cgankd_rotation', options)
    assert cfg.custom_hooks[0].generator_ckpt == ckpts['cgan_rotation']
    assert ckpts['cgan_rotation'] == str(
        tmp_path / 'cgan_rotation' / 'iter_7.pth')
    assert cfg.model.teacher_ckpt == ckpts['teacher_rotation']
    assert cfg.load_from == ckpts['student_rotation']
    assert cfg.custom_hooks[0].seed == 3 and cfg.randomness.seed == 3
    assert cfg.val_evaluator.errors_file == str(
        tmp_path / 'seed_3' / 'cgankd_rotation' / 'errors.json')
    # the full run: the configs' own lengths
    assert cfg.train_cfg.max_epochs == 16
    assert cfg.custom_hooks[0].cgan_cfg_options == {}
    # the cGAN stage needs nothing (no teacher)
    assert demo.stage_options(demo.BY_NAME['cgan_rotation'], str(tmp_path),
                              args(3), 3) == ['randomness.seed=3']


def test_a_missing_dependency_is_named(tmp_path):
    finish(tmp_path, 'teacher', 'student')
    with pytest.raises(FileNotFoundError, match="'cgan'"):
        demo.stage_options(demo.BY_NAME['cgankd'], str(tmp_path), args(), 0)


def test_shared_banks_are_built_with_the_first_seed(tmp_path):
    finish(tmp_path, 'teacher', 'cgan')
    finish(tmp_path, 'student', 'cgankd', seed=1)
    cfg = merged('kd_cgankd', demo.stage_options(
        demo.BY_NAME['kd_cgankd'], str(tmp_path), args(0, 1), 1))
    hook = cfg.custom_hooks[0]
    assert hook.seed == 0 and cfg.randomness.seed == 1
    assert cfg.train_dataloader.dataset.bank_dir == str(
        tmp_path / 'banks' / 'kd_cgankd')
    assert hook.density_ratio_cache == str(tmp_path / 'banks' /
                                           'density_ratio')
    # cDR-RS off in the Fashion-MNIST configs (its cost, see the config)
    assert hook.subsample is None
    # the full run: fresh fakes, each drawn once over the 16 epochs
    sampler = cfg.train_dataloader.sampler
    assert sampler.type == 'RealFakeRatioSampler'
    assert cfg.train_dataloader.dataset.num_fake == round(
        16 * 3 * 2000 * sampler.fake_fraction)


def test_a_real_size_run_scales_the_rows_and_keeps_the_shared_stages(
        tmp_path):
    """``--real-size 500``: the curve's rows on the first 500 images in
    ``real_500/``, each epoch 3 x 500 samples, the bank what the run
    draws; the teacher and the cGAN are the 2,000-image run's."""
    ckpts = finish(tmp_path, 'teacher', 'cgan')
    ckpts.update(finish(tmp_path, 'student', 'cgankd', real_size=500))
    assert demo.stage_dir(str(tmp_path), demo.BY_NAME['cgan'], 0, 500) == \
        str(tmp_path / 'cgan')
    assert ckpts['student'] == str(
        tmp_path / 'real_500' / 'seed_0' / 'student' / 'iter_7.pth')
    assert [s.row for s in demo.selected_stages(
        ('classification', ), 500)] == [None, 'teacher', 'student',
                                        'finetune_real', 'finetune_kd',
                                        'cgankd', 'kd_cgankd']
    size = args(real_size=500)
    student = merged('student', demo.stage_options(
        demo.BY_NAME['student'], str(tmp_path), size, 0))
    assert student.train_dataloader.dataset.indices == 500
    finetune = merged('finetune_real', demo.stage_options(
        demo.BY_NAME['finetune_real'], str(tmp_path), size, 0))
    assert finetune.train_dataloader.dataset.times == 3
    assert finetune.train_dataloader.dataset.dataset.indices == 500
    assert finetune.load_from == ckpts['student']
    cfg = merged('kd_cgankd', demo.stage_options(
        demo.BY_NAME['kd_cgankd'], str(tmp_path), size, 0))
    mix = cfg.train_dataloader.dataset
    assert mix.dataset.indices == 500 and mix.num_fake == 12000
    assert cfg.train_dataloader.sampler.real_set_multiple == 3
    assert mix.bank_dir == str(tmp_path / 'real_500' / 'banks' /
                               'kd_cgankd')
    assert cfg.custom_hooks[0].generator_ckpt == ckpts['cgan']
    assert cfg.model.teacher_ckpt == ckpts['teacher']
    assert cfg.load_from == ckpts['student']


def test_quick_shortens_all_but_the_converged_students(tmp_path):
    """The cGANs at a third of their iterations but at least 3,000, the
    schedules at 40 % with their learning-rate curves, cDR-RS off."""
    finish(tmp_path, 'teacher', 'cgan', 'cgankd')
    finish(tmp_path, 'student')
    quick = args(quick=True)

    def quick_config(name):
        return merged(name, demo.stage_options(demo.BY_NAME[name],
                                               str(tmp_path), quick, 0))

    cgan = quick_config('cgan')
    assert cgan.train_cfg.max_iters == 5333  # a third of 16,000
    assert cgan.default_hooks.checkpoint.interval == 2000
    ccgan = quick_config('cgan_rotation')
    assert ccgan.train_cfg.max_iters == 3000  # already at the floor
    assert ccgan.default_hooks.checkpoint.interval == 500
    teacher = quick_config('teacher')
    total = teacher.train_cfg.max_iters
    assert total == round(1290 * 0.4)
    assert teacher.train_cfg.val_interval == total
    assert teacher.default_hooks.checkpoint.interval == total
    warmup, cosine = teacher.param_scheduler
    assert warmup.begin == 0 and warmup.end == cosine.begin == 24
    assert cosine.end == total
    student = quick_config('student')
    assert student.train_cfg.max_epochs == 80
    assert student.param_scheduler.milestones == [50, 60, 70]
    cgankd = quick_config('kd_cgankd')
    assert cgankd.train_cfg.max_epochs == 6
    assert cgankd.param_scheduler.milestones == [4, 5, 6]
    assert cgankd.custom_hooks[0].subsample is None
    # a bank as large as the shorter run draws: 40 % of 48,000
    assert cgankd.train_dataloader.dataset.num_fake == 19200


def test_smoke_shrinks_every_stage_and_the_cgans(tmp_path):
    finish(tmp_path, 'teacher', 'cgan', 'teacher_rotation', 'cgan_rotation')
    finish(tmp_path, 'student', 'student_rotation')
    smoke = args(smoke=True)

    def smoke_config(name):
        return merged(name, demo.stage_options(demo.BY_NAME[name],
                                               str(tmp_path), smoke, 0))

    cgan = smoke_config('cgan')
    assert cgan.train_cfg.max_iters == 3
    assert cgan.train_dataloader.dataset.indices == demo.SMOKE_GAN
    ccgan = smoke_config('cgan_rotation')
    assert ccgan.train_cfg.max_iters == 3
    # the CcGAN's real set is inside its VicinalDataset
    assert ccgan.train_dataloader.dataset.type == 'VicinalDataset'
    assert ccgan.train_dataloader.dataset.dataset.indices == demo.SMOKE_GAN
    teacher = smoke_config('teacher')
    assert teacher.train_cfg.max_iters == 3
    assert teacher.train_dataloader.dataset.indices == demo.SMOKE_TRAIN
    assert teacher.val_dataloader.dataset.indices == demo.SMOKE_TEST
    finetune = smoke_config('finetune_real')
    assert finetune.train_cfg.max_epochs == 1
    assert finetune.train_dataloader.dataset.dataset.indices == \
        demo.SMOKE_TRAIN
    for name in ('cgankd', 'real_bank_rotation'):
        cfg = smoke_config(name)
        hook, mix = cfg.custom_hooks[0], cfg.train_dataloader.dataset
        assert mix.num_fake == 32 and mix.dataset.indices == demo.SMOKE_TRAIN
        assert hook.subsample is None and hook.filter.burn_in == 4
        assert hook.bank_batch_size == 16
        # the real bank computes no cGAN quality figure
        assert hook.quality_samples == (32 if name == 'cgankd' else 0)
