# Copyright (c) cgankd_plugin contributors.
"""Matplotlib figures of a bank: the filter statistic and the labels.

The filter's figure shows what the filter did: for a per-class cut-off
(classification) one small histogram per class with that class's cut-off,
or, past :data:`MAX_PANELS` classes, the pooled statistic beside each
class's cut-off; for a pooled cut-off (regression) one histogram with it.
"""
import math
from typing import Optional, Sequence

import numpy as np

from .conditions import condition_name

#: Classes drawn as small multiples at most (one histogram each).
MAX_PANELS = 20
_BAR = '#4c72b0'
_CUT = '#c44e52'


def pyplot():
    """matplotlib's pyplot on the Agg backend (no display needed)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def figure_image(fig) -> np.ndarray:
    """A matplotlib figure as an HWC uint8 image; the figure is closed."""
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    pyplot().close(fig)
    return image


def cutoff_rule(summary: dict) -> str:
    """What set the cut-offs, in words (``'0.9-quantile'``...)."""
    if summary.get('threshold') is not None:
        return 'threshold'
    quantile = summary.get('quantile')
    if quantile is None or quantile >= 1:
        return 'no cut-off'
    return f'{quantile:g}-quantile'


def _kept(stat: np.ndarray, cut: float) -> float:
    """Share of ``stat`` at or under ``cut`` (0 when empty)."""
    return float(np.mean(stat <= cut)) if len(stat) else 0.0


def _cutoff_line(ax, cut: float, label: Optional[str] = None) -> None:
    """A dashed vertical line at a finite cut-off."""
    if np.isfinite(cut):
        ax.axvline(cut, color=_CUT, ls='--', label=label)


def _pooled_figure(summary: dict, xlabel: str):
    """One histogram and the one cut-off shared by every condition."""
    stat, cut = summary['statistic'], float(summary['cutoffs'][0])
    fig, ax = pyplot().subplots(figsize=(7, 3.8), dpi=100)
    ax.hist(stat, bins=50, color=_BAR)
    _cutoff_line(ax, cut, f'pooled cut-off ({cutoff_rule(summary)} of all '
                 f'conditions): {cut:.3g}')
    if np.isfinite(cut):
        ax.legend()
    ax.set_xlabel(xlabel)
    ax.set_ylabel('burn-in samples')
    return fig


def _small_multiples(summary: dict, xlabel: str,
                     class_names: Optional[Sequence[str]]):
    """One histogram per class, each with its own cut-off."""
    stat, cond = summary['statistic'], summary['conditions']
    cutoffs = summary['cutoffs']
    cols = min(5, len(cutoffs))
    rows = math.ceil(len(cutoffs) / cols)
    fig, axes = pyplot().subplots(
        rows, cols, figsize=(2.6 * cols, 2.0 * rows + 0.6), dpi=100,
        sharex=True, squeeze=False)
    bins = np.histogram_bin_edges(stat, bins=30)
    for c, ax in enumerate(axes.flat):
        if c >= len(cutoffs):
            ax.remove()
            continue
        mine = stat[cond == c]
        ax.hist(mine, bins=bins, color=_BAR)
        _cutoff_line(ax, cutoffs[c])
        ax.set_title(f'{condition_name(c, class_names)}: '
                     f'{_kept(mine, cutoffs[c]):.0%} kept', fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes[-1]:
        ax.set_xlabel(xlabel, fontsize=8)
    return fig


def _many_classes(summary: dict, xlabel: str):
    """The pooled statistic with each class's cut-off along its axis, and
    the cut-offs by class against the same rule pooled."""
    stat, cutoffs = summary['statistic'], summary['cutoffs']
    fig, (left, right) = pyplot().subplots(
        1, 2, figsize=(11, 3.8), dpi=100)
    left.hist(stat, bins=50, color=_BAR, label='burn-in samples')
    finite = cutoffs[np.isfinite(cutoffs)]
    left.plot(finite, np.zeros_like(finite), '|', color=_CUT, ms=14,
              label="each class's cut-off")
    left.set_xlabel(xlabel)
    left.set_ylabel('burn-in samples (all classes)')
    left.legend(fontsize=8)
    right.plot(np.arange(len(cutoffs)), cutoffs, 'o', ms=3, color=_CUT,
               label=f"each class's cut-off ({cutoff_rule(summary)})")
    quantile = summary.get('quantile')
    if summary.get('threshold') is None and quantile and quantile < 1:
        right.axhline(np.quantile(stat, quantile), color=_BAR, ls='--',
                      label=f'{quantile:g}-quantile of all classes pooled')
    right.set_xlabel('class')
    right.set_ylabel(f'cut-off ({xlabel})')
    right.legend(fontsize=8)
    return fig


def filter_figure(summary: dict,
                  xlabel: str = 'teacher cross-entropy',
                  class_names: Optional[Sequence[str]] = None,
                  max_panels: int = MAX_PANELS):
    """The burn-in filter statistic and the cut-off(s) it set.

    Args:
        summary (dict): A builder's ``filter_summary()``: ``statistic``
            and ``conditions`` of the burn-in samples, ``cutoffs`` (one per
            condition), ``kept_fraction``, ``per_condition``, ``quantile``,
            ``threshold``.
        xlabel (str): What the statistic is.
        class_names (Sequence[str], optional): Names by class index.
        max_panels (int): Classes drawn as small multiples at most.

    Returns:
        matplotlib.figure.Figure: The figure (close it, or pass it to
        :func:`figure_image`).
    """
    stat = np.asarray(summary['statistic'], np.float64)
    finite = np.isfinite(stat)
    summary = dict(
        summary,
        statistic=stat[finite],
        conditions=np.asarray(summary['conditions'])[finite],
        cutoffs=np.asarray(summary['cutoffs'], np.float64))
    if not summary.get('per_condition', True):
        fig = _pooled_figure(summary, xlabel)
        rule = f'pooled {cutoff_rule(summary)}'
    elif len(summary['cutoffs']) <= max_panels:
        fig = _small_multiples(summary, xlabel, class_names)
        rule = f"each class's {cutoff_rule(summary)}"
    else:
        fig = _many_classes(summary, xlabel)
        rule = f"each class's {cutoff_rule(summary)}"
    fig.suptitle(f'teacher filter: {summary["kept_fraction"]:.0%} of '
                 f'burn-in samples kept ({rule})', fontsize=11)
    return fig


def label_figure(cond_labels: np.ndarray, teacher_labels: np.ndarray):
    """Histogram of a bank's generating labels beside the teacher's labels.

    Returns:
        matplotlib.figure.Figure: The figure.
    """
    fig, ax = pyplot().subplots(figsize=(6, 3.5), dpi=100)
    both = np.concatenate([cond_labels, teacher_labels]).astype(np.float64)
    bins = np.histogram_bin_edges(both, bins=min(50, len(np.unique(both))))
    ax.hist(cond_labels, bins=bins, alpha=0.6, label='generated for')
    ax.hist(teacher_labels, bins=bins, alpha=0.6, label='teacher label')
    ax.set_xlabel('label')
    ax.set_ylabel('samples')
    ax.legend()
    return fig
