# Copyright (c) cgankd_plugin contributors.
"""StrictTeacherDistill loads the teacher strictly or refuses clearly."""
import os

import pytest
import torch
from mmrazor.models import SingleTeacherDistill

from cgankd_plugin.models.algorithms.strict_teacher_distill import \
    StrictTeacherDistill
from cgankd_plugin.registry import MODELS
from cgankd_plugin.utils.checkpoint import CheckpointError


def _classifier(arch: str = 'resnet8', num_classes: int = 10) -> dict:
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(type='mmrazor.ResNetCIFAR', arch=arch),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead', num_classes=num_classes, in_channels=64))


def _teacher_state(seed: int = 1) -> dict:
    torch.manual_seed(seed)
    teacher = MODELS.build(_classifier())
    teacher.init_weights()
    return {k: v.clone() for k, v in teacher.state_dict().items()}


def _build(**kwargs) -> StrictTeacherDistill:
    return MODELS.build(
        dict(
            type='StrictTeacherDistill',
            architecture=_classifier(),
            teacher=_classifier(),
            distiller=dict(type='ConfigurableDistiller'),
            **kwargs))


class _WritesMarker:

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def _assert_teacher_equals(model, state: dict) -> None:
    loaded = model.teacher.state_dict()
    assert set(loaded) == set(state)
    for key, value in state.items():
        torch.testing.assert_close(loaded[key], value, msg=key)


def test_teacher_weights_equal_the_file_even_after_init_weights(tmp_path):
    state = _teacher_state()
    path = str(tmp_path / 'teacher.pth')
    torch.save(dict(meta=dict(epoch=240), state_dict=state), path)
    torch.manual_seed(7)
    model = _build(teacher_ckpt=path)
    assert isinstance(model, SingleTeacherDistill)
    assert model.teacher_ckpt == path
    _assert_teacher_equals(model, state)
    model.init_weights()  # what the runner does before training
    _assert_teacher_equals(model, state)


def test_no_teacher_ckpt_builds_a_random_teacher():
    model = _build(teacher_ckpt=None)
    assert model.teacher_ckpt is None


def test_distillation_checkpoint_needs_the_prefix(tmp_path):
    state = _teacher_state()
    student = {
        f'architecture.{k}': torch.zeros_like(v)
        for k, v in state.items()
    }
    teacher = {f'teacher.{k}': v for k, v in state.items()}
    path = str(tmp_path / 'distill_epoch_1.pth')
    torch.save(dict(state_dict={**student, **teacher}), path)
    with pytest.raises(CheckpointError) as err:
        _build(teacher_ckpt=path)
    msg = str(err.value)
    assert path in msg and 'model.teacher_ckpt' in msg
    assert "teacher_ckpt_prefix='teacher.'" in msg
    model = _build(teacher_ckpt=path, teacher_ckpt_prefix='teacher.')
    _assert_teacher_equals(model, state)


def test_shape_mismatch_names_the_key(tmp_path):
    state = _teacher_state()
    state['head.fc.weight'] = torch.zeros(100, 64)
    path = str(tmp_path / 'teacher100.pth')
    torch.save(state, path)
    with pytest.raises(CheckpointError, match="'head.fc.weight'") as err:
        _build(teacher_ckpt=path)
    assert '(100, 64)' in str(err.value) and '(10, 64)' in str(err.value)


def test_missing_file_names_the_path(tmp_path):
    path = str(tmp_path / 'checkpoints' / 'resnet32x4_cifar100.pth')
    with pytest.raises(CheckpointError, match='does not exist') as err:
        _build(teacher_ckpt=path)
    assert path in str(err.value)


def test_checkpoint_carrying_code_is_refused_and_not_run(tmp_path):
    marker = tmp_path / 'marker'
    path = str(tmp_path / 'evil.pth')
    torch.save(
        dict(state_dict=_teacher_state(), hook=_WritesMarker(str(marker))),
        path)
    with pytest.raises(CheckpointError, match='refused') as err:
        _build(teacher_ckpt=path)
    assert path in str(err.value)
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the payload is real
    assert marker.exists()
    os.remove(marker)
