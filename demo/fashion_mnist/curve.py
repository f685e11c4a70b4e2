# Copyright (c) cgankd_plugin contributors.
"""The gains of cGAN-KD over its controls against the student's real-set
size: ``curve.json`` and ``curve.png`` from the per-seed classification
figures (``classification.json`` and ``classification_real_<N>.json``)."""
import glob
import json
import os.path as osp
from statistics import mean, stdev
from typing import Dict, List, Optional

from cgankd_plugin.utils.atomic_io import atomic_write_json

# (row, control) pairs of the curve
CURVE_PAIRS = (('cgankd', 'finetune_real'), ('kd_cgankd', 'finetune_kd'),
               ('cgankd', 'student'))


def paired_gain(rows: Dict[str, List[float]], row: str, control: str,
                higher_is_better: bool = True) -> Optional[Dict]:
    """Mean per-seed gain of ``row`` over ``control`` (a lower value is
    the gain when not ``higher_is_better``), its SE (None for one seed),
    or None when either row is missing."""
    if row not in rows or control not in rows:
        return None
    sign = 1 if higher_is_better else -1
    gains = [sign * (a - b) for a, b in zip(rows[row], rows[control])]
    se = stdev(gains) / len(gains)**0.5 if len(gains) > 1 else None
    return dict(gain=mean(gains), se=se, seeds=len(gains), per_seed=gains)


def collect(results_dir: str) -> Dict[int, Dict]:
    """Each real-set size's paired gains, from the per-seed JSON files."""
    points = {}
    for path in glob.glob(osp.join(results_dir, 'classification*.json')):
        with open(path) as f:
            results = json.load(f)
        if 'real_size' not in results:  # a file of another tool
            continue
        points[int(results['real_size'])] = {
            f'{row} vs {control}': paired_gain(results['rows'], row, control)
            for row, control in CURVE_PAIRS
        }
    return dict(sorted(points.items()))


def write_curve(results_dir: str) -> Optional[str]:
    """Write ``curve.json`` and ``curve.png`` in ``results_dir``.

    Returns:
        str, optional: The picture's path, or None with no figures.
    """
    points = collect(results_dir)
    if not points:
        return None
    atomic_write_json(osp.join(results_dir, 'curve.json'), dict(
        metric='top1', gains_in='percentage points', points=[
            dict(real_size=k, **v) for k, v in points.items()]))
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    sizes = list(points)
    for i, (row, control) in enumerate(CURVE_PAIRS):
        name = f'{row} vs {control}'
        have = [n for n in sizes if points[n][name]]
        gains = [points[n][name]['gain'] for n in have]
        errors = [2 * (points[n][name]['se'] or 0) for n in have]
        ax.errorbar([n * (1 + 0.03 * (i - 1)) for n in have], gains,
                    yerr=errors, marker='o', capsize=3, label=name)
    ax.axhline(0, color='grey', linewidth=0.8)
    ax.set_xscale('log')
    ax.set_xticks(sizes, [f'{n:,}' for n in sizes])
    ax.minorticks_off()
    ax.set(xlabel='real training images of the student',
           ylabel='top-1 gain (points)',
           title='cGAN-KD on Fashion-MNIST (bars: 2 SE over seeds)')
    ax.legend(fontsize=8)
    path = osp.join(results_dir, 'curve.png')
    fig.savefig(path, bbox_inches='tight')
    plt.close(fig)
    return path
