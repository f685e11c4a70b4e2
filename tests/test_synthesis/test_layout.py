# Copyright (c) cgankd_plugin contributors.
"""The fixed layout of a bank: per-condition quotas in contiguous blocks."""
import numpy as np
import pytest

from cgankd_plugin.synthesis.layout import (condition_of_positions,
                                            condition_quotas,
                                            quotas_by_acceptance)


@pytest.mark.parametrize('num_fake,num_conditions', [(100, 10), (103, 10),
                                                     (7, 10), (0, 3),
                                                     (1, 1), (999, 100)])
def test_quotas_sum_and_balance(num_fake, num_conditions):
    quotas = condition_quotas(num_fake, num_conditions)
    assert quotas.dtype == np.int64
    assert quotas.shape == (num_conditions, )
    assert quotas.sum() == num_fake
    assert quotas.max() - quotas.min() <= 1
    # the first conditions take the remainder
    assert np.all(np.diff(quotas) <= 0)


def test_quotas_known_values():
    assert condition_quotas(7, 3).tolist() == [3, 2, 2]
    assert condition_quotas(2, 4).tolist() == [1, 1, 0, 0]


def test_positions_are_contiguous_class_blocks():
    conds = condition_of_positions(11, 3)
    assert conds.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]
    conds = condition_of_positions(100, 10)
    assert len(conds) == 100
    for c in range(10):
        assert np.flatnonzero(conds == c).tolist() == list(
            range(10 * c, 10 * c + 10))
    # blocks: the sequence never goes back to an earlier condition
    conds = condition_of_positions(57, 8)
    assert np.all(np.diff(conds) >= 0)
    assert np.bincount(conds, minlength=8).tolist() == condition_quotas(
        57, 8).tolist()


def test_bad_arguments():
    with pytest.raises(ValueError, match='num_conditions'):
        condition_quotas(10, 0)
    with pytest.raises(ValueError, match='num_fake'):
        condition_quotas(-1, 3)


def test_regression_quotas_follow_the_burn_in_acceptance():
    quotas = quotas_by_acceptance(10, np.array([0, 3, 1, 0, 6]))
    assert quotas.tolist() == [0, 3, 1, 0, 6]
    # largest remainders, ties to the lower value; never a rejected value
    quotas = quotas_by_acceptance(7, np.array([1, 1, 0, 1]))
    assert quotas.tolist() == [3, 2, 0, 2] and quotas.sum() == 7
    with pytest.raises(ValueError, match='filter.quantile'):
        quotas_by_acceptance(5, np.zeros(3))
