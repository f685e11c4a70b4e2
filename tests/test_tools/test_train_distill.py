# Copyright (c) cgankd_plugin contributors.
"""The real tools on the real distillation configs, on a tiny CIFAR-100.

Each run is a fresh interpreter (``tools/train.py`` / ``tools/test.py``),
as a user would start it, shrunk by ``--cfg-options`` to the least that
still exercises it on two busy CPU cores: 8 training images (two
iterations of batch 4), one epoch, validation (8 images) only where it is
under test. Checkpoints are loaded with torch's default
``weights_only=True`` throughout.
"""
import ast
import math
import os
from typing import List, Optional

import pytest
import torch
from e2e_utils import cifar_shrink_options, run_tool, scalars

# the method and where it distils, as the config names say it
DISTILL = 'configs/distill/{}_resnet32x4_resnet8x4_1xb64_cifar100.py'
KD = DISTILL.format('kd_logits')
METHOD_CONFIGS = dict(
    fitnet=DISTILL.format('fitnet_backbone'),
    crd=DISTILL.format('crd_neck'),
    dkd=DISTILL.format('dkd_logits'))
TEACHER = 'configs/teachers/resnet32x4_cifar100.py'
NUM_TRAIN = 8
BATCH = 4
NUM_VAL = 8
LOSS_KEYS = dict(
    kd='distill.loss_kd',
    fitnet='distill.loss_fitnet',
    crd='distill.loss_crd',
    dkd='distill.loss_dkd')


@pytest.fixture(scope='module', autouse=True)
def _weights_only_stays_on():
    """No run may switch torch's safe loading off through the environment."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', raising=False)
        yield


def _options(data_root: str,
             crd: bool = False,
             max_epochs: int = 1,
             teacher_ckpt: Optional[str] = 'None',
             val: bool = False) -> List[str]:
    """``cifar_shrink_options`` made smaller still.

    Args:
        data_root (str): The tiny CIFAR-100.
        crd (bool): The training set is wrapped by the CRD dataset.
        max_epochs (int): Train this many epochs.
        teacher_ckpt (str, optional): ``model.teacher_ckpt``; None leaves
            the option out (for a config without a teacher).
        val (bool): Validate after every epoch; otherwise never.

    Returns:
        list: ``key=value`` strings for ``--cfg-options``.
    """
    train_ds = ('train_dataloader.dataset.dataset'
                if crd else 'train_dataloader.dataset')
    opts = cifar_shrink_options(
        data_root, batch_size=BATCH, max_epochs=max_epochs, crd=crd)
    opts += [
        # MMEngine validates after the last epoch whatever the interval
        f'train_cfg.val_begin={1 if val else 1000}',
        f'{train_ds}.indices={NUM_TRAIN}',
        f'val_dataloader.dataset.indices={NUM_VAL}',
        f'test_dataloader.dataset.indices={NUM_VAL}',
        f'val_dataloader.batch_size={NUM_VAL}',
        f'test_dataloader.batch_size={NUM_VAL}',
    ]
    if teacher_ckpt is not None:
        opts.append(f'model.teacher_ckpt={teacher_ckpt}')
    return opts


def _log_text(work_dir: str) -> str:
    text = ''
    for root, _, files in os.walk(work_dir):
        for name in sorted(files):
            if name.endswith('.log'):
                with open(os.path.join(root, name)) as f:
                    text += f.read()
    return text


def _assert_trained(work_dir: str, loss_key: str, val: bool = False) -> None:
    """Finite losses, the method's loss logged, the checkpoint written."""
    records = scalars(work_dir)
    train = [r for r in records if 'loss' in r]
    assert len(train) == NUM_TRAIN // BATCH, records
    for record in train:
        assert loss_key in record, record
        for key, value in record.items():
            if 'loss' in key:
                assert math.isfinite(value), (key, record)
    accuracy = [r['accuracy/top1'] for r in records if 'accuracy/top1' in r]
    assert len(accuracy) == int(val), records
    assert all(0 <= a <= 100 for a in accuracy)
    assert os.path.isfile(os.path.join(work_dir, 'epoch_1.pth'))


@pytest.fixture(scope='module')
def teacher_ckpt(tiny_cifar100, tmp_path_factory) -> str:
    work_dir = str(tmp_path_factory.mktemp('teacher'))
    run_tool('train', TEACHER, ['--work-dir', work_dir],
             _options(tiny_cifar100, teacher_ckpt=None))
    _assert_trained(work_dir, 'loss')
    return os.path.join(work_dir, 'epoch_1.pth')


@pytest.fixture(scope='module')
def kd_work_dir(tiny_cifar100, teacher_ckpt, tmp_path_factory) -> str:
    """KD from the teacher trained above (its checkpoint loads strictly)."""
    work_dir = str(tmp_path_factory.mktemp('kd'))
    run_tool('train', KD, ['--work-dir', work_dir],
             _options(tiny_cifar100, teacher_ckpt=teacher_ckpt, val=True))
    return work_dir


def test_kd_trains_from_a_trained_teacher(kd_work_dir, teacher_ckpt):
    _assert_trained(kd_work_dir, LOSS_KEYS['kd'], val=True)
    log = _log_text(kd_work_dir)
    assert 'teacher.accuracy/top1' in log  # the distill val loop ran
    teacher = torch.load(teacher_ckpt, map_location='cpu')['state_dict']
    distill = torch.load(
        os.path.join(kd_work_dir, 'epoch_1.pth'),
        map_location='cpu')['state_dict']
    from_file = {
        k[len('teacher.'):]: v
        for k, v in distill.items() if k.startswith('teacher.')
    }
    # the frozen teacher is exactly the trained one
    assert set(from_file) == set(teacher)
    for key, value in teacher.items():
        torch.testing.assert_close(from_file[key], value, msg=key)
    assert any(k.startswith('architecture.') for k in distill)


@pytest.mark.parametrize('method', ['fitnet', 'crd', 'dkd'])
def test_method_trains_one_epoch(method, tiny_cifar100, tmp_path):
    work_dir = str(tmp_path)
    crd = method == 'crd'
    proc = run_tool('train', METHOD_CONFIGS[method], ['--work-dir', work_dir],
                    _options(tiny_cifar100, crd=crd))
    _assert_trained(work_dir, LOSS_KEYS[method])
    if crd:
        log = _log_text(work_dir) + proc.stdout
        assert (f'memory bank resized from 50000 to {NUM_TRAIN}' in log), \
            log[-3000:]


def test_resume_continues_from_the_last_epoch(kd_work_dir, tiny_cifar100,
                                              teacher_ckpt):
    proc = run_tool(
        'train', KD, ['--work-dir', kd_work_dir, '--resume'],
        _options(tiny_cifar100, max_epochs=2, teacher_ckpt=teacher_ckpt))
    output = proc.stdout + proc.stderr
    assert 'resumed epoch: 1' in output, output[-3000:]
    assert 'Epoch(train) [1]' not in output
    assert 'Epoch(train) [2]' in output
    assert os.path.isfile(os.path.join(kd_work_dir, 'epoch_2.pth'))
    meta = torch.load(
        os.path.join(kd_work_dir, 'epoch_2.pth'), map_location='cpu')['meta']
    assert meta['epoch'] == 2


def test_test_tool_reports_accuracy(kd_work_dir, tiny_cifar100):
    ckpt = os.path.join(kd_work_dir, 'epoch_1.pth')
    proc = run_tool('test', KD,
                    [ckpt, '--work-dir', kd_work_dir + '_test'],
                    _options(tiny_cifar100))
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith('{') and "'accuracy/top1'" in last, last
    metrics = ast.literal_eval(last)
    assert 0 <= metrics['accuracy/top1'] <= 100
    assert 0 <= metrics['accuracy/top5'] <= 100
    assert f'Load checkpoint from {ckpt}' in proc.stdout + proc.stderr
