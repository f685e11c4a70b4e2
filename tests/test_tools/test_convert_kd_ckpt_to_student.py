# Copyright (c) cgankd_plugin contributors.
"""A distilled student is evaluated with its own weights, never random ones.

A real KD checkpoint of the Fashion-MNIST configs (a few iterations of
``tools/train.py``, so it carries MMEngine's message hub) is converted by
``tools/convert_kd_ckpt_to_student.py`` and evaluated with the student's
plain config, on the first 500 test images, by ``tools/test.py``.
"""
import ast
import importlib.util
import os
import subprocess
import sys

import pytest
import torch
from e2e_utils import NEEDS_FASHION_MNIST, REPO_ROOT, run_tool

KD = 'configs/fashion_mnist/kd_logits_vgg8_resnet8_1xb128_fashion_mnist.py'
STUDENT = 'configs/fashion_mnist/resnet8_1xb128_fashion_mnist.py'
TOOL = os.path.join(REPO_ROOT, 'tools', 'convert_kd_ckpt_to_student.py')
TEST_OPTIONS = [
    'model.teacher_ckpt=None',  # ignored by the student's config
    'test_dataloader.dataset.indices=500',
    'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False',
]


def _converter():
    spec = importlib.util.spec_from_file_location('convert_kd', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _top1(config: str, checkpoint: str, work_dir: str) -> tuple:
    """``tools/test.py``'s top-1 and its whole output."""
    options = TEST_OPTIONS if config == KD else TEST_OPTIONS[1:]
    proc = run_tool('test', config, [checkpoint, '--work-dir', work_dir],
                    options)
    metrics = ast.literal_eval(proc.stdout.strip().splitlines()[-1])
    return metrics['accuracy/top1'], proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def kd_checkpoint(tmp_path_factory) -> str:
    """12 KD iterations (random teacher, lr 0.2: the student learns)."""
    work_dir = str(tmp_path_factory.mktemp('kd'))
    run_tool('train', KD, ['--work-dir', work_dir], [
        'model.teacher_ckpt=None',
        'train_dataloader.dataset.dataset.indices=512',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_cfg.max_epochs=1',
        'optim_wrapper.optimizer.lr=0.2',
        'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=4',
    ])
    return os.path.join(work_dir, 'epoch_1.pth')


@pytest.fixture(scope='module')
def kd_top1(kd_checkpoint, tmp_path_factory) -> float:
    """What the distillation config scores with its own checkpoint."""
    top1, _ = _top1(KD, kd_checkpoint, str(tmp_path_factory.mktemp('t')))
    return top1


@NEEDS_FASHION_MNIST
def test_converted_student_scores_as_the_distillation_checkpoint(
        kd_checkpoint, kd_top1, tmp_path):
    from mmpretrain.apis import init_model
    out = str(tmp_path / 'student.pth')
    proc = subprocess.run(
        [sys.executable, TOOL, kd_checkpoint, '--out-path', out],
        capture_output=True, text=True, timeout=300, cwd=REPO_ROOT,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "'teacher.' (37 keys)" in proc.stdout
    kd = torch.load(kd_checkpoint, weights_only=True)
    student = torch.load(out, weights_only=True)
    assert set(student) == {'state_dict', 'meta'}
    expected = {
        k[len('architecture.'):]: v
        for k, v in kd['state_dict'].items() if k.startswith('architecture.')
    }
    assert list(student['state_dict']) == list(expected)
    for name, value in expected.items():
        assert torch.equal(student['state_dict'][name], value), name
    assert student['meta']['epoch'] == kd['meta']['epoch']
    # plain mmpretrain takes it as it is
    model = init_model(os.path.join(REPO_ROOT, STUDENT), out, device='cpu')
    for name, value in model.state_dict().items():
        if name in expected:
            assert torch.equal(value, expected[name]), name
    assert set(expected) <= set(model.state_dict())
    top1, _ = _top1(STUDENT, out, str(tmp_path / 'test'))
    assert top1 == kd_top1
    assert kd_top1 > 20  # the untrained student scores about 13 here


@NEEDS_FASHION_MNIST
def test_student_config_takes_the_distillation_checkpoint(
        kd_checkpoint, kd_top1, tmp_path):
    top1, output = _top1(STUDENT, kd_checkpoint, str(tmp_path))
    assert 'loading its student' in output
    assert 'tools/convert_kd_ckpt_to_student.py' in output
    assert 'missing keys in source state_dict' not in output
    assert top1 == kd_top1


def test_not_a_distillation_checkpoint_names_what_it_holds(tmp_path):
    path = str(tmp_path / 'plain.pth')
    torch.save(
        dict(state_dict={
            'backbone.conv.weight': torch.zeros(1),
            'head.fc.weight': torch.zeros(1)
        }), path)
    out = tmp_path / 'out.pth'
    with pytest.raises(SystemExit) as err:
        _converter().main([path, '--out-path', str(out)])
    msg = str(err.value)
    assert 'not a distillation checkpoint' in msg and path in msg
    assert "'backbone.' (1 key), 'head.' (1 key)" in msg
    assert not out.exists()


def test_default_and_directory_outputs_follow_mmrazor(tmp_path):
    src = tmp_path / 'epoch_3.pth'
    torch.save(dict(state_dict={'architecture.w': torch.ones(2),
                                'teacher.w': torch.zeros(2)},
                    meta=dict(epoch=3)), str(src))
    tool = _converter()
    tool.main([str(src)])
    beside = torch.load(tmp_path / 'epoch_3_student.pth', weights_only=True)
    assert list(beside['state_dict']) == ['w']
    assert beside['meta']['epoch'] == 3
    folder = tmp_path / 'out'
    folder.mkdir()
    tool.main([str(src), '--out-path', str(folder)])
    assert (folder / 'epoch_3_student.pth').is_file()
    with pytest.raises(SystemExit, match='--inplace'):
        tool.main([str(src), '--out-path', str(src)])
    tool.main([str(src), '--inplace'])
    assert list(torch.load(src, weights_only=True)['state_dict']) == ['w']


def test_checkpoint_written_without_the_plugin_names_the_fix(tmp_path):
    # MMEngine's own HistoryBuffer pickling (a fresh interpreter without
    # cgankd_plugin), as mmrazor's runs write it
    path = str(tmp_path / 'mmrazor.pth')
    write = ('import sys, torch\n'
             'from mmengine.logging import MessageHub\n'
             "hub = MessageHub.get_instance('old')\n"
             "hub.update_scalar('train/loss', 1.0)\n"
             "torch.save(dict(state_dict={'architecture.w': torch.ones(1)},"
             ' message_hub=hub.state_dict()), sys.argv[1])\n')
    proc = subprocess.run([sys.executable, '-c', write, path],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with pytest.raises(SystemExit) as err:
        _converter().main([path, '--out-path', str(tmp_path / 'o.pth')])
    assert 'tools/convert_checkpoint.py' in str(err.value)
    assert not (tmp_path / 'o.pth').exists()
