# Copyright (c) cgankd_plugin contributors.
"""The filter figure: a histogram per class with its own cut-off, the
cut-offs of many classes against the pooled statistic, one pooled cut-off
for regression."""
import numpy as np
import pytest

from cgankd_plugin.synthesis.histograms import (cutoff_rule, figure_image,
                                                filter_figure, pyplot)


def summary(num_classes, per_class=40, per_condition=True, quantile=0.9,
            threshold=None):
    rng = np.random.default_rng(0)
    conditions = np.repeat(np.arange(num_classes), per_class)
    stat = rng.exponential(1.0 + conditions % 4, len(conditions))
    if threshold is not None:
        cutoffs = np.full(num_classes, threshold)
    elif per_condition:
        cutoffs = np.array([np.quantile(stat[conditions == c], quantile)
                            for c in range(num_classes)])
    else:
        cutoffs = np.full(num_classes, np.quantile(stat, quantile))
    return dict(statistic=stat, conditions=conditions, cutoffs=cutoffs,
                kept_fraction=0.9, per_condition=per_condition,
                quantile=None if threshold is not None else quantile,
                threshold=threshold)


def _vertical_lines(ax):
    """x of the vertical lines drawn on ``ax`` (axvline)."""
    return [line.get_xdata()[0] for line in ax.lines
            if np.ptp(np.asarray(line.get_xdata(), float)) == 0]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    pyplot().close('all')


def test_each_class_has_its_panel_and_its_own_cut_off():
    data = summary(7)
    fig = filter_figure(data, class_names=[f'k{c}' for c in range(7)])
    assert len(fig.axes) == 7  # the unused cells of the 2x5 grid removed
    for c, ax in enumerate(fig.axes):
        assert _vertical_lines(ax) == [pytest.approx(data['cutoffs'][c])]
        assert ax.get_title().startswith(f'{c} k{c}: ')
        mine = data['statistic'][data['conditions'] == c]
        kept = np.mean(mine <= data['cutoffs'][c])
        assert f'{kept:.0%} kept' in ax.get_title()
        assert sum(p.get_height() for p in ax.patches) == len(mine)
    assert 'median' not in fig._suptitle.get_text()
    assert '0.9-quantile' in fig._suptitle.get_text()


def test_many_classes_show_every_cut_off_against_the_pooled_statistic():
    data = summary(100, per_class=10)
    fig = filter_figure(data)
    pooled, by_class = fig.axes
    dots = by_class.lines[0]
    np.testing.assert_array_equal(dots.get_xdata(), np.arange(100))
    np.testing.assert_allclose(dots.get_ydata(), data['cutoffs'])
    reference = by_class.lines[1].get_ydata()[0]
    assert reference == pytest.approx(np.quantile(data['statistic'], 0.9))
    assert sum(p.get_height() for p in pooled.patches) == 1000
    np.testing.assert_allclose(sorted(pooled.lines[0].get_xdata()),
                               sorted(data['cutoffs']))


def test_a_pooled_cut_off_is_one_panel_named_for_what_it_is():
    data = summary(5, per_condition=False, quantile=0.7)
    fig = filter_figure(data, xlabel='|teacher - label|')
    (ax, ) = fig.axes
    assert _vertical_lines(ax) == [pytest.approx(data['cutoffs'][0])]
    label = ax.get_legend().get_texts()[0].get_text()
    assert 'pooled' in label and '0.7-quantile' in label
    assert 'median' not in label
    assert figure_image(fig).shape[2] == 3


def test_the_rule_is_named():
    assert cutoff_rule(summary(2, threshold=2.5)) == 'threshold'
    assert cutoff_rule(summary(2, quantile=0.9)) == '0.9-quantile'
    assert cutoff_rule(dict(quantile=None, threshold=None)) == 'no cut-off'
    # no finite cut-off: no line, still a figure
    data = summary(3)
    data['cutoffs'] = np.full(3, np.inf)
    fig = filter_figure(dict(data, quantile=None))
    assert all(_vertical_lines(ax) == [] for ax in fig.axes)
