# Copyright (c) cgankd_plugin contributors.
import copy

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmpretrain.models import ImageClassifier
from mmpretrain.structures import DataSample

from cgankd_plugin.datasets.transforms import PackRegressionInputs
from cgankd_plugin.evaluation.metrics import RegressionMetric
from cgankd_plugin.models.heads import RegressionHead
from cgankd_plugin.registry import MODELS


def make_head_with_known_fc(**kwargs):
    """A head whose output is the first feature channel, unchanged."""
    head = RegressionHead(in_channels=2, **kwargs)
    with torch.no_grad():
        head.fc.weight.copy_(torch.tensor([[1.0, 0.0]]))
        head.fc.bias.zero_()
    return head


def samples_with_gt_values(values):
    samples = []
    for value in values:
        sample = DataSample()
        sample.set_field(
            torch.tensor([value], dtype=torch.float32),
            'gt_value',
            dtype=torch.Tensor)
        samples.append(sample)
    return samples


# feature channel 0 is the prediction in normalised units
FEATURES = (torch.tensor([[0.5, 9.0], [0.25, -9.0]]), )


def test_normalisation_round_trip():
    head = RegressionHead(in_channels=2, label_range=(1, 60))
    assert head.to_normalized(1.0) == 0.0
    assert head.to_normalized(60.0) == 1.0
    np.testing.assert_allclose(
        head.to_original(np.array([0.0, 0.5, 1.0])), [1.0, 30.5, 60.0])
    ages = torch.tensor([3.0, 17.0, 59.0])
    torch.testing.assert_close(
        head.to_original(head.to_normalized(ages)), ages)


def test_identity_without_normalisation():
    head = RegressionHead(in_channels=2)
    assert head.to_normalized(42.0) == 42.0
    assert head.to_original(42.0) == 42.0


@pytest.mark.parametrize('loss_type, expected', [
    ('l1', (0.5 + 0.25) / 2),
    ('l2', (0.5**2 + 0.25**2) / 2),
])
def test_loss_on_known_inputs(loss_type, expected):
    head = make_head_with_known_fc(
        label_range=(0, 10), loss_type=loss_type, loss_weight=2.0)
    # targets 10 and 0 are 1 and 0 once normalised
    losses = head.loss(FEATURES, samples_with_gt_values([10.0, 0.0]))
    assert set(losses) == {'loss'}
    assert losses['loss'].item() == pytest.approx(2.0 * expected)


def test_loss_is_computed_in_normalised_units():
    head = make_head_with_known_fc(label_range=(-80, 80), loss_type='l1')
    # normalised predictions 0.5, 0.25 are 0 and -40 degrees
    losses = head.loss(FEATURES, samples_with_gt_values([0.0, -40.0]))
    assert losses['loss'].item() == pytest.approx(0.0, abs=1e-6)


def test_unknown_loss_type_is_rejected():
    with pytest.raises(ValueError, match='loss_type'):
        RegressionHead(in_channels=2, loss_type='huber')


def test_loss_without_gt_value_names_the_field():
    head = make_head_with_known_fc()
    with pytest.raises(KeyError, match='gt_value'):
        head.loss(FEATURES, [DataSample(), DataSample()])


def test_forward_and_fc_output_shapes():
    head = RegressionHead(
        in_channels=2,
        label_range=(0, 1),
        hidden_channels=(3, ),
        output_activation='relu')
    head.eval()
    assert head(FEATURES).shape == (2, )
    assert head.fc(head.hidden_layers(FEATURES[-1])).shape == (2, 1)
    assert (head(FEATURES) >= 0).all()


def test_predict_fills_pred_value_in_original_units():
    head = make_head_with_known_fc(label_range=(0, 10))
    given = samples_with_gt_values([10.0, 0.0])
    predictions = head.predict(FEATURES, given)
    assert predictions[0] is given[0]
    values = [sample.pred_value for sample in predictions]
    assert all(value.shape == (1, ) for value in values)
    assert all(value.dtype == torch.float32 for value in values)
    assert [value.item() for value in values] == pytest.approx([5.0, 2.5])

    fresh = head.predict(FEATURES)
    assert [s.pred_value.item() for s in fresh] == pytest.approx([5.0, 2.5])


def test_registry_builds_head_inside_image_classifier():
    head_cfg = dict(
        type='RegressionHead', in_channels=120, label_range=(1, 60))
    model_cfg = dict(
        type='mmpretrain.ImageClassifier',
        backbone=dict(type='mmpretrain.LeNet5', num_classes=-1),
        neck=dict(type='mmpretrain.GlobalAveragePooling'),
        head=head_cfg,
        # ImageClassifier's default preprocessor type has no scope prefix
        data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor'))
    with DefaultScope.overwrite_default_scope('mmrazor'):
        model = MODELS.build(copy.deepcopy(model_cfg))
    assert isinstance(model.head, RegressionHead)

    from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
    model_cfg['type'] = 'ImageClassifier'
    model_cfg['backbone']['type'] = 'LeNet5'
    model_cfg['neck']['type'] = 'GlobalAveragePooling'
    model_cfg['data_preprocessor']['type'] = 'ClsDataPreprocessor'
    head_cfg['type'] = 'mmrazor.RegressionHead'
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MMPRETRAIN_MODELS.build(model_cfg)
    assert isinstance(model.head, RegressionHead)


class TinyConvBackbone(nn.Module):
    """One 1x1 convolution: enough to learn an image's brightness."""

    def __init__(self, channels=4):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, kernel_size=1)

    def forward(self, inputs):
        return (torch.relu(self.conv(inputs)), )


def make_regressor(loss_type='l2'):
    return ImageClassifier(
        backbone=TinyConvBackbone(),
        neck=dict(type='GlobalAveragePooling'),
        head=RegressionHead(
            in_channels=4, label_range=(1, 60), loss_type=loss_type),
        data_preprocessor=dict(
            type='ClsDataPreprocessor', mean=[0, 0, 0], std=[255, 255, 255]))


def make_brightness_batch():
    """Uniform images whose age label grows with their brightness."""
    pack = PackRegressionInputs()
    batch = dict(inputs=[], data_samples=[])
    for brightness in np.linspace(0, 255, 8):
        image = np.full((8, 8, 3), brightness, dtype=np.uint8)
        age = 1.0 + 59.0 * float(image[0, 0, 0]) / 255.0
        packed = pack(dict(img=image, gt_value=age, img_shape=(8, 8)))
        batch['inputs'].append(packed['inputs'])
        batch['data_samples'].append(packed['data_samples'])
    return batch


def test_image_classifier_learns_a_learnable_target():
    torch.manual_seed(0)
    model = make_regressor()
    model.init_weights()
    optim_wrapper = OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9))
    losses = []
    for _ in range(40):
        log_vars = model.train_step(make_brightness_batch(), optim_wrapper)
        losses.append(log_vars['loss'].item())
    assert losses[-1] < 0.25 * losses[0]

    predictions = model.val_step(make_brightness_batch())
    assert all(s.pred_value.shape == (1, ) for s in predictions)
    metric = RegressionMetric()
    metric.process(None, [s.to_dict() for s in predictions])
    result = metric.evaluate(len(predictions))
    assert set(result) == {'regression/mae', 'regression/rmse'}
    # years: the untrained head predicts ~1 for every age (MAE ~29.5)
    assert result['regression/mae'] < 15


def test_output_distillation_under_mmrazor():
    torch.manual_seed(0)
    algorithm = MODELS.build(
        dict(
            type='SingleTeacherDistill',
            architecture=make_regressor(),
            teacher=make_regressor(),
            distiller=dict(
                type='ConfigurableDistiller',
                student_recorders=dict(
                    out=dict(type='ModuleOutputs', source='head')),
                teacher_recorders=dict(
                    out=dict(type='ModuleOutputs', source='head')),
                distill_losses=dict(loss_kd=dict(type='L1Loss')),
                loss_forward_mappings=dict(
                    loss_kd=dict(
                        s_feature=dict(from_student=True, recorder='out'),
                        t_feature=dict(from_student=False,
                                       recorder='out'))))))
    batch = algorithm.data_preprocessor(make_brightness_batch(), True)
    losses = algorithm(**batch, mode='loss')
    assert {'student.loss', 'distill.loss_kd'} <= set(losses)
    with torch.no_grad():
        inputs = batch['inputs']
        expected = (algorithm.student(inputs) -
                    algorithm.teacher(inputs)).abs().mean()
    assert losses['distill.loss_kd'].item() == pytest.approx(
        expected.item(), rel=1e-5)
