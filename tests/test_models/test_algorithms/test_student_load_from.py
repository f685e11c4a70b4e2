# Copyright (c) cgankd_plugin contributors.
"""``load_from`` with a checkpoint of the student alone."""
import pytest
import torch
from mmengine.runner.checkpoint import load_checkpoint

from cgankd_plugin.registry import MODELS
from cgankd_plugin.utils import CheckpointError


def _classifier(arch):
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(type='mmrazor.ResNetCIFAR', arch=arch),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=64))


def _algorithm():
    return MODELS.build(
        dict(
            type='StrictTeacherDistill',
            architecture=_classifier('resnet8'),
            teacher=_classifier('resnet8'),
            distiller=dict(type='ConfigurableDistiller')))


def test_student_checkpoint_fills_the_student_and_keeps_the_teacher(
        tmp_path):
    student = MODELS.build(_classifier('resnet8'))
    for p in student.parameters():
        torch.nn.init.constant_(p, 0.5)
    path = str(tmp_path / 'student.pth')
    torch.save(dict(state_dict=student.state_dict()), path)
    algo = _algorithm()
    teacher_before = {
        k: v.clone()
        for k, v in algo.teacher.state_dict().items()
    }
    load_checkpoint(algo, path, map_location='cpu', strict=False)
    for name, value in student.state_dict().items():
        assert torch.equal(algo.architecture.state_dict()[name], value), name
    for name, value in algo.teacher.state_dict().items():
        assert torch.equal(teacher_before[name], value), name


def test_student_checkpoint_with_missing_keys_is_refused(tmp_path):
    student = MODELS.build(_classifier('resnet8')).state_dict()
    student.pop('head.fc.weight')
    path = str(tmp_path / 'broken.pth')
    torch.save(student, path)
    with pytest.raises(CheckpointError, match='head.fc.weight'):
        load_checkpoint(_algorithm(), path, map_location='cpu')


def test_algorithm_checkpoint_loads_unchanged(tmp_path):
    source = _algorithm()
    path = str(tmp_path / 'algo.pth')
    torch.save(dict(state_dict=source.state_dict()), path)
    target = _algorithm()
    load_checkpoint(target, path, map_location='cpu', strict=True)
    for name, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[name], value), name
