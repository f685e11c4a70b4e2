# Copyright (c) cgankd_plugin contributors.
"""cGAN-KD for image regression, end to end, on a tiny UTKFace.

The real tools on the real UTKFace configs, each a fresh interpreter,
shrunk by ``--cfg-options``: 60 training and 30 test images of 32x32 in
the official h5 layout (ages 1-60, brightness growing with age, so there
is something to learn), a VGG-8 teacher and a ResNet-8 student with
16-wide regression heads, a width-4 CcGAN at 32x32 trained for 3
iterations, a bank of 20 samples on a grid of 2 ages (1 and 60: with a
barely trained CcGAN, the teacher's errors depend mostly on how far the age
is from its typical prediction, and with two ages the pooled 0.7 quantile
keeps samples of both). Order of the runs: teacher, no-KD student,
cGAN-KD fine-tuning of that student, KD + cGAN-KD.
"""
import math
import os
from typing import List

import h5py
import numpy as np
import pytest
from e2e_utils import as_cli, cgan_options, run_tool, scalars

from cgankd_plugin.synthesis import SyntheticBank

TEACHER = 'configs/teachers/vgg11_utkface.py'
STUDENT = 'configs/teachers/resnet20_utkface.py'
CGANKD = 'configs/cgankd/cgankd_vgg11_resnet20_1xb128_utkface.py'
KD_CGANKD = 'configs/cgankd/cgankd_kd_head_vgg11_resnet20_1xb128_utkface.py'
NUM_TRAIN = 60
NUM_TEST = 30
IMG_SIZE = 32
BATCH = 20
NUM_FAKE = 20
AGES = (1.0, 60.0)  # the grid of 2 values over UTKFace's label_range


def write_utkface(path: str, seed: int = 0) -> str:
    """A UTKFace h5 file in the official layout (uint8 N x 3 x H x W)."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, num in (('train', NUM_TRAIN), ('test', NUM_TEST)):
        ages = rng.integers(1, 61, num).astype(np.float64)
        brightness = 20 + ages / 60 * 200
        images = brightness[:, None, None, None] + rng.normal(
            0, 10, (num, 3, IMG_SIZE, IMG_SIZE))
        arrays[f'images_{split}'] = np.clip(images, 0, 255).astype(np.uint8)
        arrays[f'labels_{split}'] = ages
    with h5py.File(path, 'w') as h5_file:
        for key, array in arrays.items():
            h5_file.create_dataset(key, data=array)
    return path


@pytest.fixture(scope='module', autouse=True)
def _weights_only_stays_on():
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', raising=False)
        yield


@pytest.fixture(scope='module')
def tiny_utkface(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp('utkface')
    write_utkface(str(root / 'UTKFace_64x64_prop_0.8.h5'))
    return str(root)


def _options(data_root: str,
             train_dataset: str = 'train_dataloader.dataset',
             max_epochs: int = 1,
             val: bool = True) -> List[str]:
    opts = [
        f'{train_dataset}.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'train_dataloader.batch_size={BATCH}',
        f'val_dataloader.batch_size={NUM_TEST}',
        f'test_dataloader.batch_size={NUM_TEST}',
        f'train_cfg.max_epochs={max_epochs}',
        'train_cfg.val_interval=1',
        # MMEngine validates after the last epoch whatever the interval
        f'train_cfg.val_begin={1 if val else 1000}',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1',
    ]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [
            f'{loader}.num_workers=0', f'{loader}.persistent_workers=False'
        ]
    return opts


def _tiny_nets(prefix: str, arch: str) -> List[str]:
    return [
        f'{prefix}backbone.arch={arch}', f'{prefix}head.hidden_channels=[16]'
    ]


def _distill_options(data_root: str, teacher_ckpt: str,
                     val: bool) -> List[str]:
    """A cgankd config on the tiny set, with a tiny CcGAN and bank."""
    hook = 'custom_hooks.0.'
    return _options(
        data_root, 'train_dataloader.dataset.dataset', val=val) + [
            f'model.teacher_ckpt={teacher_ckpt}',
            'load_from=None',
            *_tiny_nets('model.architecture.', 'resnet8'),
            *_tiny_nets('model.teacher.', 'vgg8'),
            f'train_dataloader.dataset.num_fake={NUM_FAKE}',
            *as_cli(cgan_options({
                'model.img_size': IMG_SIZE,
                'model.noise_dim': 8,
                'model.generator.base_channels': 4,
                'model.generator.label_embed_dim': 8,
                'model.discriminator.base_channels': 4,
                'model.discriminator.label_embed_dim': 8,
                'train_dataloader.batch_size': 8,
                'train_dataloader.dataset.dataset.data_root': data_root,
            }, max_iters=12, checkpoint_interval=4)),
            f'{hook}num_label_values={len(AGES)}',
            f'{hook}bank_batch_size=16',
            f'{hook}filter.burn_in=16',
            f'{hook}subsample=None',
        ]


def _train_records(work_dir: str) -> List[dict]:
    records = [r for r in scalars(work_dir) if 'loss' in r]
    assert records, work_dir
    for record in records:
        for key, value in record.items():
            if 'loss' in key:
                assert math.isfinite(value), (key, record)
    return records


def _maes(work_dir: str, key: str = 'regression/mae') -> List[float]:
    return [r[key] for r in scalars(work_dir) if key in r]


@pytest.fixture(scope='module')
def teacher_ckpt(tiny_utkface, tmp_path_factory) -> str:
    """(a) The teacher config trains and reports its MAE."""
    work_dir = str(tmp_path_factory.mktemp('teacher'))
    run_tool(
        'train', TEACHER, ['--work-dir', work_dir],
        _options(tiny_utkface, max_epochs=3) + _tiny_nets('model.', 'vgg8'))
    assert len(_train_records(work_dir)) == 3 * NUM_TRAIN // BATCH
    maes = _maes(work_dir)
    assert len(maes) == 3 and all(0 <= m < 100 for m in maes)
    return os.path.join(work_dir, 'epoch_3.pth')


@pytest.fixture(scope='module')
def student_ckpt(tiny_utkface, tmp_path_factory) -> str:
    """The no-KD student, which the cGAN-KD student is fine-tuned from."""
    work_dir = str(tmp_path_factory.mktemp('student'))
    run_tool(
        'train', STUDENT, ['--work-dir', work_dir],
        _options(tiny_utkface, max_epochs=1, val=False) +
        _tiny_nets('model.', 'resnet8'))
    return os.path.join(work_dir, 'epoch_1.pth')


@pytest.fixture(scope='module')
def cgankd_run(tiny_utkface, teacher_ckpt, student_ckpt, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('cgankd'))
    proc = run_tool(
        'train', CGANKD, ['--work-dir', work_dir],
        _distill_options(tiny_utkface, teacher_ckpt, val=True) +
        [f'load_from={student_ckpt}'])
    return work_dir, proc.stdout + proc.stderr


def test_teacher_trains_and_reports_mae(teacher_ckpt):
    assert os.path.isfile(teacher_ckpt)


def test_cgankd_builds_a_regression_bank(cgankd_run):
    work_dir, _ = cgankd_run
    # the config's CcGAN recipe trained by a nested Runner (3 generator
    # steps of 4 discriminator steps, on VicinalBatchSampler's draws)
    assert os.path.isfile(os.path.join(work_dir, 'cgan', 'iter_12.pth'))
    bank = SyntheticBank.open(
        os.path.join(work_dir, 'synthetic_bank'), verify=True)
    assert len(bank) == NUM_FAKE
    assert bank.images.shape == (NUM_FAKE, 3, IMG_SIZE, IMG_SIZE)
    teacher = np.asarray(bank.teacher_labels)
    assert teacher.dtype == np.float32 and np.all(np.isfinite(teacher))
    # the conditions are ages in years, on the grid over label_range 1..60
    cond = np.asarray(bank.cond_labels)
    # (a round spans the grid; per-age counts follow acceptance)
    assert set(np.unique(cond)) <= set(np.asarray(AGES, np.float32))
    # the pooled filter: every kept sample is within the one cut-off
    cut = bank.meta['filter_cutoffs']
    assert len(set(cut)) == 1
    assert np.all(np.abs(teacher - cond) <= cut[0] + 1e-4)
    assert bank.meta['over_generation'] >= 1


def test_cgankd_fine_tunes_the_student_and_reports_mae(cgankd_run,
                                                       student_ckpt):
    work_dir, output = cgankd_run
    # fine-tuned from the no-KD student, as the paper's students
    assert f'Load checkpoint from {student_ckpt}' in output, output[-3000:]
    records = _train_records(work_dir)
    assert len(records) == (NUM_TRAIN + NUM_FAKE) // BATCH
    for record in records:
        assert 'student.loss' in record
        assert not any(k.startswith('distill.') for k in record), record
    maes = _maes(work_dir)
    assert len(maes) == 1 and 0 <= maes[0] < 100
    assert len(_maes(work_dir, 'teacher.regression/mae')) == 1
    vis = os.path.join(work_dir, 'cgankd_vis')
    for name in ('bank_samples.png', 'filter_histogram.png'):
        assert os.path.getsize(os.path.join(vis, name)) > 0, name


def test_kd_cgankd_adds_the_output_kd_term(tiny_utkface, teacher_ckpt,
                                           cgankd_run, tmp_path):
    cgan_ckpt = os.path.join(cgankd_run[0], 'cgan', 'iter_12.pth')
    work_dir = str(tmp_path)
    run_tool(
        'train',
        KD_CGANKD,
        ['--work-dir', work_dir],
        _distill_options(tiny_utkface, teacher_ckpt, val=False) +
        # the CcGAN trained above: no second GAN training
        [f'custom_hooks.0.generator_ckpt={cgan_ckpt}'])
    records = _train_records(work_dir)
    assert len(records) == (NUM_TRAIN + NUM_FAKE) // BATCH
    for record in records:
        assert 'distill.loss_l1' in record and 'student.loss' in record
        assert record['distill.loss_l1'] >= 0
    bank = SyntheticBank.open(os.path.join(work_dir, 'synthetic_bank'))
    assert len(bank) == NUM_FAKE
