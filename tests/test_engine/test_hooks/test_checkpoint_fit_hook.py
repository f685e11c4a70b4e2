# Copyright (c) cgankd_plugin contributors.
"""CheckpointFitHook: a plain model never runs on weights that did not load.
"""
from collections import OrderedDict

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

from cgankd_plugin.engine.hooks import CheckpointFitHook
from cgankd_plugin.registry import HOOKS, MODELS
from cgankd_plugin.utils import CheckpointError
from cgankd_plugin.utils.tool_config import build_runner


@pytest.fixture(autouse=True)
def own_default_scope():
    """The runner built here sets MMEngine's default scope (mmrazor); the
    tests after this file must find the one they had."""
    with DefaultScope.overwrite_default_scope('mmrazor'):
        yield


def _classifier(arch='resnet8', num_classes=10):
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(type='mmrazor.ResNetCIFAR', arch=arch),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead', num_classes=num_classes, in_channels=64))


def _filled(cfg, value):
    model = MODELS.build(cfg)
    for p in model.parameters():
        torch.nn.init.constant_(p, value)
    return model


def _distill_state(student, teacher_value=0.25):
    teacher = _filled(_classifier(), teacher_value)
    state = OrderedDict()
    state._metadata = OrderedDict()
    for prefix, model in (('architecture.', student), ('teacher.', teacher)):
        part = model.state_dict()
        state.update((prefix + k, v) for k, v in part.items())
        state._metadata.update(
            (prefix + k if k else prefix[:-1], v)
            for k, v in part._metadata.items())
    return state


class _Runner:
    """What the hook reads of a runner."""

    def __init__(self, model) -> None:
        self.model = model
        self.logger = MMLogger.get_instance('fit_hook_test')


def test_a_fitting_checkpoint_passes_unchanged():
    model = MODELS.build(_classifier())
    state = model.state_dict()
    checkpoint = dict(state_dict=state)
    HOOKS.build(dict(type='CheckpointFitHook')).after_load_checkpoint(
        _Runner(model), checkpoint)
    assert checkpoint['state_dict'] is state
    # a new head (a few keys differ) and a DDP-saved file fit too
    other_head = MODELS.build(_classifier(num_classes=5)).state_dict()
    wrapped = {f'module.{k}': v for k, v in state.items()}
    hook = CheckpointFitHook()
    for fits in (other_head, wrapped):
        assert hook.fit(fits, state.keys()) is fits


def test_a_distillation_checkpoint_loads_its_student():
    student = _filled(_classifier(), 0.5)
    state = _distill_state(student)
    model = MODELS.build(_classifier())
    checkpoint = dict(state_dict=state, meta=dict(epoch=1))
    CheckpointFitHook().after_load_checkpoint(_Runner(model), checkpoint)
    fitted = checkpoint['state_dict']
    assert list(fitted) == list(student.state_dict())
    assert fitted._metadata[''] == state._metadata['architecture']
    assert set(fitted._metadata) == set(student.state_dict()._metadata)
    model.load_state_dict(fitted)
    for name, value in student.state_dict().items():
        assert torch.equal(model.state_dict()[name], value), name
    # a bare state dict is fitted in place
    bare = _distill_state(student)
    CheckpointFitHook().after_load_checkpoint(_Runner(model), bare)
    assert list(bare) == list(student.state_dict())
    assert '' in bare._metadata


def test_a_checkpoint_of_another_model_is_refused():
    model = MODELS.build(_classifier())
    keys = model.state_dict().keys()
    teacher_only = {f'teacher.{k}': v for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointError) as err:
        CheckpointFitHook().fit(teacher_only, keys)
    msg = str(err.value)
    weights = sum(not k.endswith('num_batches_tracked') for k in keys)
    assert f"{weights} of the model's {weights} weights are missing" in msg
    assert "'teacher.' (" in msg and 'random' in msg and 'load_from' in msg
    # a distillation checkpoint of another student names the converter
    state = _distill_state(_filled(_classifier(), 0.5))
    vgg = MODELS.build(
        dict(_classifier(), backbone=dict(type='mmrazor.VGGCIFAR',
                                          arch='vgg8'),
             head=dict(type='LinearClsHead', num_classes=10,
                       in_channels=512)))
    with pytest.raises(CheckpointError,
                       match='tools/convert_kd_ckpt_to_student.py'):
        CheckpointFitHook().fit(state, vgg.state_dict().keys())


def test_a_distillation_model_keeps_its_own_loading():
    algo = MODELS.build(
        dict(
            type='StrictTeacherDistill',
            architecture=_classifier(),
            teacher=_classifier(),
            distiller=dict(type='ConfigurableDistiller')))
    student = MODELS.build(_classifier()).state_dict()
    checkpoint = dict(state_dict=student)
    CheckpointFitHook().after_load_checkpoint(_Runner(algo), checkpoint)
    assert checkpoint['state_dict'] is student


def test_the_tools_runner_loads_the_student(tmp_path):
    """build_runner registers the hook: load_from takes the student."""
    student = _filled(_classifier(), 0.5)
    path = str(tmp_path / 'kd.pth')
    torch.save(dict(state_dict=_distill_state(student)), path)
    runner = build_runner(
        Config(
            dict(
                model=_classifier(),
                work_dir=str(tmp_path / 'work'),
                default_scope='mmrazor',
                load_from=path)))
    assert sum(isinstance(h, CheckpointFitHook) for h in runner.hooks) == 1
    runner.load_or_resume()
    for name, value in student.state_dict().items():
        assert torch.equal(runner.model.state_dict()[name], value), name
    with pytest.raises(ValueError, match='min_found'):
        CheckpointFitHook(min_found=0)
