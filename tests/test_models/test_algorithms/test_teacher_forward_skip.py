# Copyright (c) cgankd_plugin contributors.
"""A frozen teacher nothing reads from is not run on training batches.

cGAN-KD alone (no KD loss) keeps the teacher only to filter and relabel the
synthetic bank; running it on every batch would cost more than the
student's own step (a VGG teacher, a ResNet-20 student at 64x64).
"""
import pytest
import torch
from mmpretrain.structures import DataSample

from cgankd_plugin.registry import MODELS


def _regressor() -> dict:
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(type='mmrazor.ResNetCIFAR', arch='resnet8'),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='mmrazor.RegressionHead',
            in_channels=64,
            label_range=(0.0, 60.0)))


KD_TERM = dict(
    type='ConfigurableDistiller',
    student_recorders=dict(value=dict(type='ModuleOutputs', source='head')),
    teacher_recorders=dict(value=dict(type='ModuleOutputs', source='head')),
    distill_losses=dict(loss_l1=dict(type='L1Loss')),
    loss_forward_mappings=dict(
        loss_l1=dict(
            s_feature=dict(from_student=True, recorder='value'),
            t_feature=dict(from_student=False, recorder='value'))))


def _samples(n: int = 4):
    samples = []
    for age in torch.linspace(1, 60, n):
        sample = DataSample()
        sample.set_field(age.reshape(1), 'gt_value', dtype=torch.Tensor)
        samples.append(sample)
    return samples


@pytest.mark.parametrize('distiller, teacher_runs, keys', [
    (dict(type='ConfigurableDistiller'), False, {'student.loss'}),
    (dict(type='ConfigurableDistiller',
          distill_losses=dict()), False, {'student.loss'}),
    (KD_TERM, True, {'student.loss', 'distill.loss_l1'}),
])
def test_the_teacher_runs_only_when_read(distiller, teacher_runs, keys):
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='StrictTeacherDistill',
            architecture=_regressor(),
            teacher=_regressor(),
            distiller=distiller))
    calls = []
    model.teacher.register_forward_hook(lambda *args: calls.append(1))
    inputs = torch.randn(4, 3, 16, 16)
    losses = model.loss(inputs, _samples())
    assert set(losses) == keys
    assert bool(calls) == teacher_runs
    # the student's loss is mmrazor's either way
    torch.manual_seed(0)
    expected = model.student(inputs, _samples(), mode='loss')['loss']
    torch.testing.assert_close(losses['student.loss'], expected)
    losses['student.loss'].backward()
    assert all(p.grad is None for p in model.teacher.parameters())
