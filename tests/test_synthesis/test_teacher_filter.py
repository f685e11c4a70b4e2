# Copyright (c) cgankd_plugin contributors.
"""The teacher filter's cut-offs on known numbers."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cgankd_plugin.synthesis.teacher_filter import (
    check_filter_settings, classification_statistic, cutoffs_from_burn_in,
    regression_statistic)


def _two_classes():
    # 10 values per class, interleaved, different scales per class
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.permutation(np.arange(1.0, 11.0)),
                             rng.permutation(np.arange(10.0, 110.0, 10.0))])
    conds = np.repeat([0, 1], 10)
    order = rng.permutation(20)
    return values[order], conds[order]


def test_per_class_quantile_keeps_what_the_quantile_says():
    stat, conds = _two_classes()
    cut = cutoffs_from_burn_in(stat, conds, 2, 0.9, None, per_condition=True)
    expected = [np.quantile(stat[conds == c], 0.9) for c in (0, 1)]
    np.testing.assert_allclose(cut, expected)
    # np.quantile (linear) of 1..10 at 0.9 is 9.1: 9 of 10 values are kept
    assert cut[0] == pytest.approx(9.1)
    assert cut[1] == pytest.approx(91.0)
    kept = stat <= cut[conds]
    assert kept.sum() == 18
    assert set(stat[~kept]) == {10.0, 100.0}
    # q = 0.5 keeps half of each class
    cut = cutoffs_from_burn_in(stat, conds, 2, 0.5, None, per_condition=True)
    assert cut.tolist() == pytest.approx([5.5, 55.0])
    assert (stat <= cut[conds]).sum() == 10


def test_regression_quantile_is_pooled():
    stat, conds = _two_classes()
    cut = cutoffs_from_burn_in(stat, conds, 2, 0.7, None,
                               per_condition=False)
    pooled = np.quantile(stat, 0.7)
    assert cut.tolist() == [pooled, pooled]
    # pooling differs from the per-class cut-offs here
    per = cutoffs_from_burn_in(stat, conds, 2, 0.7, None, per_condition=True)
    assert not np.allclose(per, cut)


def test_threshold_and_keep_all():
    stat, conds = _two_classes()
    cut = cutoffs_from_burn_in(stat, conds, 3, None, 2.5, per_condition=True)
    assert cut.tolist() == [2.5, 2.5, 2.5]
    cut = cutoffs_from_burn_in(stat, conds, 2, 1.0, None, per_condition=True)
    assert np.all(np.isinf(cut))
    cut = cutoffs_from_burn_in(stat, conds, 2, None, None, per_condition=True)
    assert np.all(np.isinf(cut))


@pytest.mark.parametrize('quantile', [0, -0.1, 1.5])
def test_quantile_outside_range_names_the_field(quantile):
    with pytest.raises(ValueError, match=r'filter\.quantile'):
        check_filter_settings(quantile, None)


def test_negative_threshold_names_the_field():
    with pytest.raises(ValueError, match=r'filter\.threshold'):
        check_filter_settings(None, -1.0)
    with pytest.raises(ValueError, match='not both'):
        check_filter_settings(0.9, 1.0)
    check_filter_settings(1.0, None)
    check_filter_settings(None, 0.0)


def test_nan_statistic_raises():
    stat = np.array([0.1, np.nan, 0.3, 0.4])
    with pytest.raises(FloatingPointError, match='not finite'):
        cutoffs_from_burn_in(stat, np.zeros(4, int), 1, 0.9, None, True)


def test_condition_without_burn_in_samples_raises():
    with pytest.raises(ValueError, match='condition 1'):
        cutoffs_from_burn_in(np.ones(4), np.zeros(4, int), 2, 0.9, None,
                             True)


def test_statistics():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 3.0, 0.0]])
    labels = torch.tensor([0, 2])
    stat = classification_statistic(logits, labels)
    expected = F.cross_entropy(logits, labels, reduction='none').numpy()
    np.testing.assert_allclose(stat, expected, rtol=1e-6)
    assert stat[1] > stat[0]
    err = regression_statistic(torch.tensor([1.0, 5.0]),
                               torch.tensor([3.0, 4.5]))
    np.testing.assert_allclose(err, [2.0, 0.5])

