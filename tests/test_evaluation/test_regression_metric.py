# Copyright (c) cgankd_plugin contributors.
import json
import math

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmpretrain.structures import DataSample

from cgankd_plugin.evaluation.metrics import RegressionMetric
from cgankd_plugin.registry import METRICS


def make_sample(prediction, ground_truth):
    sample = DataSample()
    sample.set_field(torch.tensor([prediction]), 'pred_value',
                     dtype=torch.Tensor)
    sample.set_field(torch.tensor([ground_truth]), 'gt_value',
                     dtype=torch.Tensor)
    return sample


def test_mae_and_rmse_on_known_predictions():
    # errors 1, -2, 3, 0
    samples = [
        make_sample(p, g) for p, g in [(11., 10.), (18., 20.), (33., 30.),
                                       (40., 40.)]
    ]
    metric = METRICS.build(dict(type='RegressionMetric'))
    metric.process(None, [s.to_dict() for s in samples[:2]])
    metric.process(None, samples[2:])  # DataSample objects work too
    result = metric.evaluate(len(samples))
    assert result['regression/mae'] == pytest.approx(6 / 4)
    assert result['regression/rmse'] == pytest.approx(math.sqrt(14 / 4))


def test_through_an_evaluator_with_custom_prefix():
    evaluator = Evaluator(dict(type='mmrazor.RegressionMetric', prefix='age'))
    evaluator.process([make_sample(3., 1.), make_sample(0., 1.)])
    result = evaluator.evaluate(2)
    assert result == pytest.approx({'age/mae': 1.5,
                                    'age/rmse': math.sqrt(2.5)})


def test_calculate():
    result = RegressionMetric.calculate(torch.tensor([1., 2.]), [2., 2.])
    assert result == pytest.approx(dict(mae=0.5, rmse=math.sqrt(0.5)))
    with pytest.raises(ValueError, match='2 predictions but 3'):
        RegressionMetric.calculate([1., 2.], [1., 2., 3.])


def test_missing_field_is_named():
    metric = RegressionMetric()
    sample = DataSample()
    sample.set_field(torch.tensor([1.]), 'gt_value', dtype=torch.Tensor)
    with pytest.raises(KeyError, match='pred_value'):
        metric.process(None, [sample.to_dict()])


def test_errors_file_holds_every_pair_in_original_units(tmp_path):
    path = tmp_path / 'sub' / 'errors.json'
    metric = RegressionMetric(errors_file=str(path))
    metric.process(None, [
        dict(pred_value=torch.tensor([12.5]), gt_value=10.0),
        dict(pred_value=np.array(-3.0), gt_value=-1.0),
    ])
    results = metric.compute_metrics(metric.results)
    with open(path) as f:
        written = json.load(f)
    assert written == dict(gt_value=[10.0, -1.0], pred_value=[12.5, -3.0])
    assert results['mae'] == pytest.approx(2.25)
    # no temporary file is left behind
    assert sorted(p.name for p in path.parent.iterdir()) == ['errors.json']
