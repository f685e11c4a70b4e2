# Copyright (c) cgankd_plugin contributors.
"""The tables, the paired comparisons, the JSON and the error picture."""
import argparse
import json
import math
import os
import os.path as osp
import platform
from typing import Dict, List, Optional, Sequence, Tuple

from cgankd_plugin.utils.atomic_io import atomic_write_bytes, read_json
from .options import (NUM_TEST_IMAGES, QUICK_GAN_ITERS, QUICK_MIN_GAN_ITERS,
                      QUICK_SCHEDULE, SMOKE_TEST_IMAGES)
from .stages import (COMPARISONS, HIGHER_IS_BETTER, METRIC_NAMES,
                     METRIC_TITLES, TASK_TITLES, TASKS)


def format_seconds(seconds: Optional[float]) -> str:
    """``'4m 05s'``, or ``'-'`` when unknown."""
    if seconds is None:
        return '-'
    minutes, secs = divmod(int(round(seconds)), 60)
    return f'{minutes}m {secs:02d}s'


def plot_errors_against_angle(root: str, rows: List[Dict]) -> None:
    """``error_vs_angle.png``: each regression student's MAE per angle."""
    students = [
        row for row in rows
        if row['task'] == 'rotation' and row['row'] not in (None, 'teacher')
    ]
    series = []
    for row in students:
        errors = read_json(osp.join(root, row['stage'], 'errors.json'))
        if errors:
            series.append((row['model'], errors))
    if not series:
        return
    import matplotlib  # late: only this plot needs it
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    edges = np.linspace(-45, 45, 19)
    centres = (edges[:-1] + edges[1:]) / 2
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    for name, errors in series:
        truth = np.asarray(errors['gt_value'])
        error = np.abs(np.asarray(errors['pred_value']) - truth)
        bins = np.clip(np.digitize(truth, edges) - 1, 0, len(centres) - 1)
        mae = [
            error[bins == b].mean() if np.any(bins == b) else np.nan
            for b in range(len(centres))
        ]
        ax.plot(centres, mae, marker='o', label=name)
    ax.set_xlabel('true angle (degrees)')
    ax.set_ylabel('mean absolute error (degrees)')
    ax.set_title('Rotated Fashion-MNIST: error against label')
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = osp.join(root, 'error_vs_angle.png')
    fig.savefig(path + '.tmp.png')
    plt.close(fig)
    os.replace(path + '.tmp.png', path)


def hardware() -> str:
    """A short description of where the demo ran."""
    import torch  # late: only the final table needs it
    where = f'{os.cpu_count()} CPU cores ({platform.machine()})'
    if torch.cuda.is_available():
        where = f'{torch.cuda.get_device_name(0)}, {where}'
    return where


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    var = sum((v - mean)**2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(var)


def format_value(values: Sequence[float]) -> str:
    """One run's value, or the mean +- standard deviation of several."""
    if len(values) == 1:
        return f'{values[0]:.2f}'
    return '{:.2f} +- {:.2f}'.format(*mean_std(values))


def paired_difference(better: Sequence[float], control: Sequence[float],
                      higher_is_better: bool) -> Dict:
    """The per-seed paired difference (gain, in the metric's good sense).

    Returns:
        dict: ``gain`` (mean), ``se`` (its standard error, NaN for one
        seed) and ``holds`` (gain above twice the standard error).
    """
    sign = 1.0 if higher_is_better else -1.0
    diffs = [sign * (b - c) for b, c in zip(better, control)]
    mean, std = mean_std(diffs)
    se = std / math.sqrt(len(diffs)) if len(diffs) > 1 else float('nan')
    return dict(gain=mean, se=se, holds=len(diffs) > 1 and mean > 2 * se,
                diffs=diffs)


def task_results(runs: Dict[int, List[Dict]], task: str,
                 args: argparse.Namespace) -> Dict:
    """One task's figures in the ``docs/results/<task>.json`` format."""
    seeds = sorted(runs)
    rows: Dict[str, List[float]] = {}
    for i, record in enumerate(runs[seeds[0]]):
        if record['task'] == task and record['row']:
            rows[record['row']] = [runs[s][i]['value'] for s in seeds]
    return dict(
        task=task,
        metric=METRIC_NAMES[task],
        higher_is_better=HIGHER_IS_BETTER[task],
        split='val' if args.eval_split == 'val' else 'test',
        seeds=seeds,
        rows=rows)


def results_tables(runs: Dict[int, List[Dict]],
                   args: argparse.Namespace) -> str:
    """Per task: the rows (mean +- std, per seed) and the comparisons."""
    if args.smoke:
        where = f'first {SMOKE_TEST_IMAGES} test images'
    elif args.eval_split == 'val':
        where = '5,000 held-out training images (validation)'
    else:
        where = f'{NUM_TEST_IMAGES:,} test images'
    seeds = sorted(runs)
    over = '' if len(seeds) == 1 else (f', mean +- std over seeds '
                                       f'{", ".join(map(str, seeds))}')
    blocks = []
    for task in TASKS:
        records = [(i, r) for i, r in enumerate(runs[seeds[0]])
                   if r['task'] == task and r['row']]
        if not records:
            continue
        per_seed = ' | '.join(f'seed {s}' for s in seeds)
        lines = [
            f'### {TASK_TITLES[task]}', '',
            f'| Row | Model | Training data | {METRIC_TITLES[task]}, '
            f'{where}{over} | {per_seed} | Wall time |',
            '| --- | --- | --- | ---: | ' + '---: | ' * len(seeds) + '---: |'
        ]
        for i, record in records:
            values = [runs[seed][i]['value'] for seed in seeds]
            times = [runs[seed][i]['wall_time'] for seed in seeds]
            known = [t for t in times if t is not None]
            wall = sum(known) / len(known) if known else None
            cells = ' | '.join(f'{v:.2f}' for v in values)
            lines.append(f'| {record["row"]} | {record["model"]} | '
                         f'{record["data"]} | {format_value(values)} | '
                         f'{cells} | {format_seconds(wall)} |')
        blocks.append('\n'.join(lines))
        blocks.append(comparison_table(task_results(runs, task, args)))
    return '\n\n'.join(b for b in blocks if b)


def comparison_table(results: Dict) -> str:
    """The paired comparisons of one task, gain against 2 x its SE."""
    rows = results['rows']
    lines = [
        f'Paired per-seed differences ({results["metric"]}; gain > 0 means '
        'the first row is better):', '',
        '| Comparison | Gain (mean) | SE of the paired difference | '
        'Gain > 2 SE |', '| --- | ---: | ---: | :---: |'
    ]
    for better, control in COMPARISONS:
        if better not in rows or control not in rows:
            continue
        diff = paired_difference(rows[better], rows[control],
                                 results['higher_is_better'])
        se = '-' if math.isnan(diff['se']) else f'{diff["se"]:.2f}'
        verdict = '-' if math.isnan(diff['se']) else (
            'yes' if diff['holds'] else 'no')
        lines.append(f'| {better} vs {control} | {diff["gain"]:+.2f} | '
                     f'{se} | {verdict} |')
    return '\n'.join(lines) if len(lines) > 4 else ''


def gan_notes(runs: Dict[int, List[Dict]]) -> str:
    """The cGANs' quality and the banks' acceptance, as their stages left
    them."""
    notes = []
    seen = set()
    for seed in sorted(runs):
        for record in runs[seed]:
            quality = record.get('gan_quality')
            if quality and record['stage'] not in seen:
                seen.add(record['stage'])
                figures = ', '.join(
                    f'{k} {v:.3f}' for k, v in sorted(quality.items())
                    if isinstance(v, (int, float)) and k != 'version')
                notes.append(f'- {record["stage"]}: {figures}')
            bank = record.get('bank')
            if bank and record['row']:
                notes.append(f'- seed {seed}, {record["stage"]} bank: '
                             f'{bank.get("num_samples", "?")} samples, '
                             'acceptance rate '
                             f'{bank.get("acceptance_rate", "?")}')
    if not notes:
        return ''
    return ('cGAN quality at the student\'s view (teacher-feature Frechet '
            'distance; teacher agreement with the generating class, or '
            'the teacher\'s MAE against the generating angle) and the '
            'banks:\n' + '\n'.join(notes))


def write_json(path: str, content) -> None:
    """Write ``content`` as JSON atomically, in its own key order."""
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    atomic_write_bytes((json.dumps(content, indent=2) + '\n').encode(), path)


def write_report(runs: Dict[int, List[Dict]], args: argparse.Namespace,
                 root: str, results_dir: str, total: float) -> None:
    """Print the tables and write ``results.md``, ``results.json`` and
    ``<results_dir>/<task>.json``.

    Args:
        runs (dict): Each seed's stage records, in order.
        args (argparse.Namespace): The command line.
        root (str): The experiment's folder.
        results_dir (str): Where the ``<task>.json`` files go.
        total (float): Wall seconds of this invocation.
    """
    tables = results_tables(runs, args)
    title = 'cGAN-KD on Fashion-MNIST' + (
        ' (SMOKE: numbers mean nothing)' if args.smoke else
        f' (--quick: schedules at {QUICK_SCHEDULE:.0%} but the converged '
        f'students\', cGANs at {QUICK_GAN_ITERS:.0%} (at least '
        f'{QUICK_MIN_GAN_ITERS:,} iterations), no cDR-RS)'
        if args.quick else '')
    cpu = sum(r['cpu_time'] or 0.0 for r in {
        (r['stage'], json.dumps(r['wall_time'])): r
        for rows in runs.values() for r in rows if r['ran']
    }.values())
    seeds = ', '.join(map(str, args.seeds))
    notes = (f'Seed(s) {seeds} (the teacher and the cGAN are shared by the '
             f'seeds). Hardware: {hardware()}. Wall time of this '
             f'invocation: {format_seconds(total)} (stages found done count '
             f'0); CPU time of the stages it ran, all threads: '
             f'{format_seconds(cpu)}. Pictures: '
             f'seed_{args.seeds[0]}/<stage>/cgankd_vis/bank_samples.png and '
             'filter_histogram.png, '
             f'seed_{args.seeds[0]}/error_vs_angle.png.')
    report = f'# {title}\n\n{tables}\n\n{notes}\n'
    quality = gan_notes(runs)
    if quality:
        report += f'\n{quality}\n'
    results_path = osp.join(root, 'results.md')
    os.makedirs(root, exist_ok=True)
    atomic_write_bytes(report.encode(), results_path)
    for task in args.tasks:
        if any(r['task'] == task for r in runs[args.seeds[0]]):
            write_json(osp.join(results_dir, f'{task}.json'),
                       task_results(runs, task, args))
    write_json(osp.join(root, 'results.json'),
               {str(seed): rows for seed, rows in runs.items()})
    print(f'\n{report}\nWritten to {results_path} and {results_dir}',
          flush=True)
