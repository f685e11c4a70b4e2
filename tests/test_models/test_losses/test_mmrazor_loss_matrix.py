# Copyright (c) cgankd_plugin contributors.
"""Every distillation loss mmrazor registers runs one training step.

cGAN-KD adds synthetic images to whatever distillation a config already
uses, so a user may stack it on any loss mmrazor ships. With the plugin
imported (its shims applied), each loss named in
``mmrazor.models.losses.__all__`` is built from a config through the
registry and given a forward and a backward pass on tiny random tensors of
the shapes it expects. The output must be finite and one element, and the
gradient must reach the student's tensor, finite and not all zero: a loss
that crashes, returns NaN or silently cuts the graph at the first step
fails here instead of in a user's run.

A guard test compares the cases with ``__all__``, so a loss added by a
future mmrazor fails until someone gives it a case (or a reason in
``NOT_COVERED``).
"""
from typing import Callable, Dict, List, Optional, Tuple

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

import cgankd_plugin  # noqa: F401  (shims first, then mmrazor's losses)
from cgankd_plugin.registry import MODELS
from mmrazor.models import losses as mmrazor_losses

BATCH, CHANNELS, SIZE, CLASSES, EMBED = 4, 3, 4, 5, 8
FEATURE = (BATCH, CHANNELS, SIZE, SIZE)
LOGITS = (BATCH, CLASSES)

Case = Tuple[dict, tuple, torch.Tensor]

# Losses that cannot run here, with the error observed. Keep it empty
# unless one truly needs a process group or data a unit test cannot get.
NOT_COVERED: Dict[str, str] = {}

# mmrazor's CRDLoss sums its contrast terms over dim 0 without squeezing,
# so it returns shape (1, ); mmengine's ``parse_losses`` takes ``mean()``,
# which makes that harmless. Every other loss returns a 0-dim tensor.
ONE_ELEMENT_SHAPES = {'CRDLoss': (1, )}


def _student(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, requires_grad=True)


def _pair(shape: tuple, teacher_shape: Optional[tuple] = None) -> tuple:
    student = _student(*shape)
    teacher = torch.randn(*(teacher_shape or shape))
    return student, teacher


def _labels() -> torch.Tensor:
    return torch.randint(0, CLASSES, (BATCH, ))


def _two_inputs(type_: str,
                shape: tuple,
                teacher_shape: Optional[tuple] = None,
                **kwargs) -> Callable[[], Case]:
    """A case for ``loss(student, teacher)`` with tensors of ``shape``."""

    def build() -> Case:
        student, teacher = _pair(shape, teacher_shape)
        return dict(type=type_, **kwargs), (student, teacher), student

    return build


def _with_labels(type_: str, **kwargs) -> Callable[[], Case]:
    """A case for ``loss(student_logits, teacher_logits, gt_labels)``."""

    def build() -> Case:
        student, teacher = _pair(LOGITS)
        args = (student, teacher, _labels())
        return dict(type=type_, **kwargs), args, student

    return build


def _one_input(type_: str, shape: tuple, **kwargs) -> Callable[[], Case]:
    """A DAFL case: ``loss(x)``, where ``x`` is the teacher's output on a
    generated image and the gradient is meant to reach the generator."""

    def build() -> Case:
        x = _student(*shape)
        return dict(type=type_, **kwargs), (x, ), x

    return build


def _fbkd_masks(x: torch.Tensor) -> tuple:
    """Spatial (N, 1, H, W) and channel (N, C, 1, 1) masks as FBKD's
    connectors compute them (temperature 0.5)."""
    n, c, h, w = x.shape
    spatial = torch.softmax(x.abs().mean(1).view(n, -1) / 0.5, dim=1)
    channel = torch.softmax(x.abs().mean([2, 3]) / 0.5, dim=1)
    return spatial.view(n, 1, h, w) * h * w, channel.view(n, c, 1, 1) * c


def _fbkd() -> Case:
    """The connectors' output tuples, built here with plain ops (identity
    adaptation layers) so that only the loss is under test."""
    student, teacher = _pair(FEATURE)
    s_spatial_mask, s_channel_mask = _fbkd_masks(student)
    t_spatial_mask, t_channel_mask = _fbkd_masks(teacher)
    s_input = (s_spatial_mask, s_channel_mask, student.mean([2, 3]),
               student.mean(1, keepdim=True), 2 * student, student)
    t_input = (t_spatial_mask, t_channel_mask, teacher.mean(1, keepdim=True),
               2 * teacher, teacher)
    return dict(type='FBKDLoss'), (s_input, t_input), student


def _crd() -> Case:
    """L2-normalised embeddings (as CRD's connectors give) and the
    ``sample_idx`` of each image; negatives come from the memory bank."""
    student = F.normalize(torch.randn(BATCH, EMBED), dim=1).requires_grad_()
    teacher = F.normalize(torch.randn(BATCH, EMBED), dim=1)
    samples = []
    for idx in (1, 5, 9, 14):
        sample = DataSample()
        sample.set_field(torch.tensor(idx), 'sample_idx')
        samples.append(sample)
    cfg = dict(
        type='CRDLoss', dim_out=EMBED, neg_num=6, sample_n=16, loss_weight=0.8)
    return cfg, (student, teacher, samples), student


CASES: Dict[str, Callable[[], Case]] = {
    'ChannelWiseDivergence':
    _two_inputs('ChannelWiseDivergence', FEATURE, tau=4.0, loss_weight=3.0),
    'KLDivergence':
    _two_inputs('KLDivergence', LOGITS, tau=4.0, loss_weight=2.0),
    'AngleWiseRKD':
    _two_inputs('AngleWiseRKD', FEATURE),
    'DistanceWiseRKD':
    _two_inputs('DistanceWiseRKD', FEATURE),
    'WSLD':
    _with_labels('WSLD', tau=2.0, num_classes=CLASSES),
    'L2Loss':
    _two_inputs('L2Loss', FEATURE, normalize=True, div_element=True),
    'ABLoss':
    _two_inputs('ABLoss', FEATURE, margin=1.0),
    'DKDLoss':
    _with_labels('DKDLoss', tau=1.0, alpha=1.0, beta=0.5),
    'KDSoftCELoss':
    _two_inputs('KDSoftCELoss', LOGITS, tau=2.0),
    'ActivationLoss':
    _one_input('ActivationLoss', FEATURE, loss_weight=0.1),
    'OnehotLikeLoss':
    _one_input('OnehotLikeLoss', LOGITS),
    'InformationEntropyLoss':
    _one_input('InformationEntropyLoss', LOGITS, gather=True),
    'FTLoss':
    _two_inputs('FTLoss', FEATURE),
    # attention maps average over channels: the teacher may be wider
    'ATLoss':
    _two_inputs('ATLoss', FEATURE, (BATCH, 2 * CHANNELS, SIZE, SIZE)),
    'OFDLoss':
    _two_inputs('OFDLoss', FEATURE),
    'L1Loss':
    _two_inputs('L1Loss', FEATURE),
    'FBKDLoss':
    _fbkd,
    'CRDLoss':
    _crd,
    'CrossEntropyLoss':
    _two_inputs('CrossEntropyLoss', LOGITS),
    # a smaller teacher map: PKD resizes the student's to it
    'PKDLoss':
    _two_inputs('PKDLoss', FEATURE, (BATCH, CHANNELS, SIZE // 2, SIZE // 2)),
    'MGDLoss':
    _two_inputs('MGDLoss', FEATURE, alpha_mgd=2e-5),
    'DISTLoss':
    _two_inputs('DISTLoss', LOGITS, tau=1.0),
}


def _tensor_parts(output) -> List[torch.Tensor]:
    """The tensors of a loss output: itself, or a dict's / tuple's parts."""
    if isinstance(output, torch.Tensor):
        return [output]
    if isinstance(output, dict):
        output = list(output.values())
    assert isinstance(output, (list, tuple)) and output, type(output)
    parts = []
    for item in output:
        parts += _tensor_parts(item)
    return parts


def test_every_registered_loss_has_a_case():
    registered = set(mmrazor_losses.__all__)
    assert not set(NOT_COVERED) - registered, 'stale NOT_COVERED entries'
    assert not set(NOT_COVERED) & set(CASES), 'covered and NOT_COVERED'
    assert set(CASES) == registered - set(NOT_COVERED), (
        f'no case for {sorted(registered - set(NOT_COVERED) - set(CASES))}, '
        f'case for an unregistered loss: {sorted(set(CASES) - registered)}')


@pytest.mark.parametrize('name', sorted(CASES))
def test_loss_runs_a_forward_and_backward(name):
    torch.manual_seed(0)
    cfg, args, student = CASES[name]()
    # another test may have left a default scope (a Runner sets one) under
    # which a bare name like 'CrossEntropyLoss' means some other library's
    with DefaultScope.overwrite_default_scope('mmrazor'):
        loss_fn = MODELS.build(cfg)
    assert type(loss_fn) is getattr(mmrazor_losses, name)

    parts = _tensor_parts(loss_fn(*args))
    for part in parts:
        assert part.shape == ONE_ELEMENT_SHAPES.get(name, ()), part.shape
        assert torch.isfinite(part).all(), f'{name} gave {part}'
        assert part.requires_grad, f'{name} cut the graph'
    sum(part.sum() for part in parts).backward()

    grad = student.grad
    assert grad is not None, f'no gradient reached the student in {name}'
    assert grad.shape == student.shape
    assert torch.isfinite(grad).all(), f'{name} gave a gradient {grad}'
    assert grad.abs().sum() > 0, f'{name} gave an all-zero gradient'
