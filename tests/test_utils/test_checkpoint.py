# Copyright (c) cgankd_plugin contributors.
"""Checkpoints load safely (weights_only) and strictly, with clear errors."""
import os

import pytest
import torch

from cgankd_plugin.utils.checkpoint import (CheckpointError,
                                            load_state_dict_file,
                                            load_weights_strictly,
                                            student_state_dict)


class _WritesMarker:
    """Unpickling this object would create the file ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def _net() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))


def _save(obj, path) -> str:
    torch.save(obj, str(path))
    return str(path)


def test_mmengine_checkpoint_and_bare_state_dict_load(tmp_path):
    torch.manual_seed(0)
    source = _net()
    for name, obj in (('mmengine.pth',
                       dict(
                           meta=dict(epoch=3),
                           state_dict=source.state_dict(),
                           optimizer=dict(state={}))), ('bare.pth',
                                                        source.state_dict())):
        target = _net()
        load_weights_strictly(target, _save(obj, tmp_path / name))
        for key, value in source.state_dict().items():
            torch.testing.assert_close(target.state_dict()[key], value)


def test_prefix_is_stripped_and_required(tmp_path):
    source = _net()
    state = {f'teacher.{k}': v for k, v in source.state_dict().items()}
    state['architecture.0.weight'] = torch.zeros(1)
    path = _save(dict(state_dict=state), tmp_path / 'distill.pth')
    loaded = load_state_dict_file(path, prefix='teacher.')
    assert set(loaded) == set(source.state_dict())
    with pytest.raises(CheckpointError, match="'student.'") as err:
        load_state_dict_file(path, 'model.teacher_ckpt', prefix='student.')
    assert path in str(err.value) and 'model.teacher_ckpt' in str(err.value)


def test_wrong_prefix_names_the_file_and_hints_the_prefix(tmp_path):
    state = {f'teacher.{k}': v for k, v in _net().state_dict().items()}
    path = _save(dict(state_dict=state), tmp_path / 'distill.pth')
    with pytest.raises(CheckpointError, match='teacher_ckpt_prefix') as err:
        load_weights_strictly(_net(), path, 'model.teacher_ckpt')
    msg = str(err.value)
    assert path in msg and "'teacher'" in msg and 'missing keys' in msg
    load_weights_strictly(_net(), path, prefix='teacher.')


def test_missing_and_unexpected_keys_fail(tmp_path):
    state = _net().state_dict()
    del state['2.bias']
    path = _save(state, tmp_path / 'partial.pth')
    with pytest.raises(CheckpointError, match=r"1 missing keys.*'2\.bias'"):
        load_weights_strictly(_net(), path)
    state = dict(_net().state_dict(), extra=torch.zeros(1))
    path = _save(state, tmp_path / 'extra.pth')
    with pytest.raises(CheckpointError, match="unexpected keys.*'extra'"):
        load_weights_strictly(_net(), path)


def test_shape_mismatch_names_the_key(tmp_path):
    state = _net().state_dict()
    state['2.weight'] = torch.zeros(5, 4)
    path = _save(state, tmp_path / 'shape.pth')
    with pytest.raises(CheckpointError, match=r"'2\.weight'.*\(5, 4\)"):
        load_weights_strictly(_net(), path)


def test_missing_file_names_the_path(tmp_path):
    path = str(tmp_path / 'nowhere' / 'teacher.pth')
    with pytest.raises(CheckpointError, match='does not exist') as err:
        load_weights_strictly(_net(), path, 'model.teacher_ckpt')
    assert path in str(err.value)
    with pytest.raises(CheckpointError, match='does not exist'):
        load_state_dict_file('')


def test_file_without_state_dict_is_refused(tmp_path):
    path = _save([torch.zeros(1)], tmp_path / 'list.pth')
    with pytest.raises(CheckpointError, match='no state dict'):
        load_state_dict_file(path)


def test_checkpoint_carrying_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / 'marker'
    obj = dict(state_dict=_net().state_dict(), x=_WritesMarker(str(marker)))
    path = _save(obj, tmp_path / 'evil.pth')
    with pytest.raises(CheckpointError, match='refused') as err:
        load_weights_strictly(_net(), path, 'model.teacher_ckpt')
    assert path in str(err.value)
    assert not marker.exists()
    # the payload is real: an unsafe load would have run it
    torch.load(path, weights_only=False)
    assert marker.exists()
    os.remove(marker)


def test_student_state_dict_is_the_plain_model_s(tmp_path):
    student, teacher = _net(), _net()
    state = student.state_dict()
    distill = dict(state_dict={
        **{f'architecture.{k}': v for k, v in state.items()},
        **{f'teacher.{k}': v for k, v in teacher.state_dict().items()},
        'distiller.connectors.w': torch.zeros(1)
    })
    path = _save(distill, tmp_path / 'kd.pth')
    loaded = student_state_dict(path)
    assert list(loaded) == list(state)
    target = _net()
    target.load_state_dict(loaded)
    for key, value in state.items():
        torch.testing.assert_close(target.state_dict()[key], value)


def test_student_state_dict_names_what_a_plain_file_holds(tmp_path):
    path = _save(dict(state_dict=_net().state_dict()), tmp_path / 'p.pth')
    with pytest.raises(CheckpointError) as err:
        student_state_dict(path)
    msg = str(err.value)
    assert path in msg and 'not a distillation checkpoint' in msg
    assert "'1.' (5 keys), '0.' (2 keys), '2.' (2 keys)" in msg
