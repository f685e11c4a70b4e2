# Copyright (c) cgankd_plugin contributors.
"""Runs the stages not done yet, then writes the tables and figures."""
import argparse
import glob
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from statistics import mean, stdev
from typing import Dict, List, Optional

from cgankd_plugin.utils.atomic_io import (atomic_write_bytes,
                                           atomic_write_json, read_json)
from .curve import paired_gain, write_curve
from .stages import (BY_NAME, CURVE_ROWS, REAL_SIZE, REPO_ROOT, SMOKE_TEST,
                     TASKS, final_checkpoint, load_config, selected_stages,
                     shared_bank_dir, size_dir, stage_dir, stage_options)

FAILED: list = []  # why a stage failed
# per task: the scalars.json key, its JSON name, the column, the title
METRICS = dict(classification=('accuracy/top1', 'top1', 'Top-1 (%)',
                               'Classification (Fashion-MNIST, 10 classes)'),
               rotation=('regression/mae', 'mae', 'MAE (degrees)',
                         'Regression: rotation angle in [-45, 45] degrees'))
# the comparisons the experiment exists for: (row, control)
COMPARISONS = (('cgankd', 'student'), ('cgankd', 'finetune_real'),
               ('kd_cgankd', 'finetune_kd'), ('real_bank', 'finetune_real'),
               ('real_bank', 'cgankd'))


def task_results(runs: Dict[int, Dict], task: str,
                 real_size: int = REAL_SIZE) -> Dict:
    """One task's figures in the ``docs/results/<task>.json`` format."""
    seeds = sorted(runs)
    return dict(task=task, metric=METRICS[task][1],
                higher_is_better=task == 'classification', split='test',
                real_size=real_size, seeds=seeds, rows={
                    s.row: [runs[seed][s.name]['value'] for seed in seeds]
                    for s in selected_stages((task, ), real_size)
                    if s.row and s.name in runs[seeds[0]]})


def task_tables(runs: Dict[int, Dict], task: str, smoke: bool,
                real_size: int = REAL_SIZE) -> str:
    """A task's rows and paired per-seed comparisons (gain vs 2 SE)."""
    results = task_results(runs, task, real_size)
    seeds, rows, many = results['seeds'], results['rows'], len(runs) > 1
    over = f', mean +- std over seeds {", ".join(map(str, seeds))}' * many
    lines = [f'### {METRICS[task][3]}', '', f'| Row | {METRICS[task][2]}, '
             f'{f"first {SMOKE_TEST}" if smoke else "10,000"} test images'
             f'{over} | ' + ' | '.join(f'seed {s}' for s in seeds) + ' |',
             '| --- | ---: |' + ' ---: |' * len(seeds)]
    for row, values in rows.items():
        spread = f' +- {stdev(values):.2f}' if many else ''
        lines.append(f'| {row} | {mean(values):.2f}{spread} | ' +
                     ' | '.join(f'{v:.2f}' for v in values) + ' |')
    lines += ['', f'Paired per-seed differences ({METRICS[task][1]}; gain > '
              '0 means the first row is better):', '', '| Comparison | Gain '
              '(mean) | SE of the paired difference | Gain > 2 SE |',
              '| --- | ---: | ---: | :---: |']
    for better, control in COMPARISONS:
        gain = paired_gain(rows, better, control, task == 'classification')
        if gain:
            se = gain['se']
            verdict = '- | -' if se is None else f'{se:.2f} | ' + (
                'yes' if gain['gain'] > 2 * se else 'no')
            lines.append(f'| {better} vs {control} | {gain["gain"]:+.2f} | '
                         f'{verdict} |')
    return '\n'.join(lines)


def plot_errors_against_angle(seed_dir: str, records: Dict) -> None:
    """``error_vs_angle.png``: each student's MAE per 5-degree bin."""
    import matplotlib.pyplot as plt  # late: only this picture needs it
    import numpy as np
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    for name, record in records.items():
        errors = read_json(f'{seed_dir}/{name}/errors.json')
        if errors and record['row'] != 'teacher':
            truth = np.asarray(errors['gt_value'])
            error = np.abs(np.asarray(errors['pred_value']) - truth)
            total, edges = np.histogram(truth, 18, (-45, 45), weights=error)
            ax.plot(edges[:-1] + 2.5, total / np.histogram(
                truth, 18, (-45, 45))[0], marker='o', label=record['row'])
    ax.set(xlabel='true angle (degrees)', ylabel='mean absolute error '
           '(degrees)', title='Rotated Fashion-MNIST: error against label')
    ax.legend()
    fig.savefig(f'{seed_dir}/error_vs_angle.png', bbox_inches='tight')
    plt.close(fig)


def write_report(runs: Dict[int, Dict], args, root: str, results_dir: str,
                 wall_time: float) -> None:
    """Print the tables; write them, the plot and the JSON."""
    first = args.seeds[0]
    cpu_time = sum({id(r): r['cpu_time'] for records in runs.values()
                    for r in records.values() if r['ran']}.values())
    quality = [f'- {name}: ' + ', '.join(
        f'{k} {v:.3f}' for k, v in sorted(r['gan_quality'].items())
        if isinstance(v, float)) for name, r in runs[first].items()
               if r['gan_quality']]
    size = args.real_size
    report = '\n\n'.join(
        ['# cGAN-KD on Fashion-MNIST' + ' (SMOKE: numbers mean nothing)' *
         args.smoke + ' (--quick: shorter schedules and cGANs)' *
         args.quick + f' (the student\'s first {size:,} real images)' *
         (size != REAL_SIZE)] +
        [task_tables(runs, t, args.smoke, size) for t in args.tasks] +
        [f'Seeds {", ".join(map(str, sorted(runs)))}, teachers and cGANs '
         f'shared; {os.cpu_count()} CPU cores: {wall_time / 60:.1f} min '
         f'(stages found done count 0), {cpu_time / 60:.1f} CPU min of the '
         f'stages run. Pictures: seed_{first}/<stage>/cgankd_vis/*.png' +
         f', seed_{first}/error_vs_angle.png' * ('rotation' in args.tasks) +
         '.'] +
        ['cGAN quality (teacher features; the teacher\'s agreement with the '
         'generating class, or its MAE against the generating angle):\n' +
         '\n'.join(quality)] * bool(quality)) + '\n'
    run_root = osp.join(root, size_dir(size))
    if 'rotation' in args.tasks:
        plot_errors_against_angle(f'{run_root}/seed_{first}', runs[first])
    suffix = '' if size == REAL_SIZE else f'_real_{size}'
    outputs = {f'{results_dir}/{t}{suffix}.json': task_results(runs, t, size)
               for t in args.tasks}
    outputs[f'{run_root}/results.json'] = runs
    for path, content in outputs.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write_bytes(json.dumps(content, indent=2).encode() + b'\n',
                           path)
    atomic_write_bytes(report.encode(), f'{run_root}/results.md')
    if 'classification' in args.tasks:
        write_curve(results_dir)
    print(f'\n{report}\nWritten to {run_root}/results.md and '
          f'{results_dir}', flush=True)


def run_stage(stage, seed: int, root: str, args, force: bool,
              slots: threading.Semaphore) -> Dict:
    """Run a stage (in one of ``slots``) unless ``demo_stage.json`` says
    it ran with these options and config; its figures."""
    work_dir = stage_dir(root, stage, seed, args.real_size)
    options = stage_options(stage, root, args, seed)
    cfg = load_config(stage.config, options)
    record = dict(options=options, config_sha256=hashlib.sha256(json.dumps(
        cfg.to_dict(), sort_keys=True, default=str).encode()).hexdigest())
    old = read_json(osp.join(work_dir, 'demo_stage.json')) or {}
    ran = force or not final_checkpoint(work_dir) or any(
        old.get(k) != v for k, v in record.items())
    if not ran:
        record = old
    else:
        with slots:
            if FAILED:  # another stage failed: start none
                raise SystemExit(FAILED[0])
            print(f'== {stage.name} (seed {seed}): tools/train.py '
                  f'{stage.config}', flush=True)
            shutil.rmtree(work_dir, ignore_errors=True)  # nothing stale
            if stage.shared_bank and seed == args.seeds[0]:
                # the bank this stage builds for every seed: a stale one
                # (another config's) is the demo's own, not a user's
                shutil.rmtree(shared_bank_dir(root, stage, args.real_size),
                              ignore_errors=True)
            os.makedirs(work_dir)
            # one torch thread, waiting passively (on 2 busy cores spinning
            # threads made a student 2.8x slower)
            env = dict(OMP_NUM_THREADS='1', OMP_WAIT_POLICY='PASSIVE')
            began, log = time.time(), osp.join(work_dir, 'train.log')
            with open(log, 'w') as out, subprocess.Popen(
                    [sys.executable, 'tools/train.py', stage.config,
                     '--work-dir', work_dir, '--cfg-options', *options],
                    cwd=REPO_ROOT, env={**env, **os.environ}, stdout=out,
                    stderr=subprocess.STDOUT) as proc:
                _, status, usage = os.wait4(proc.pid, 0)  # and its CPU time
                proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            with open(log) as lines:
                FAILED.append(''.join(list(lines)[-30:]) + f'{stage.name} '
                              f'(seed {seed}) failed; its log: {log}')
            raise SystemExit(FAILED[-1])
        record.update(wall_time_s=time.time() - began,
                      cpu_time_s=usage.ru_utime + usage.ru_stime)
        atomic_write_json(osp.join(work_dir, 'demo_stage.json'), record)
    scalars = sorted(glob.glob(f'{work_dir}/*/vis_data/scalars.json'))
    with open(scalars[-1] if scalars and stage.row else os.devnull) as f:
        values = [json.loads(line).get(METRICS[stage.task][0]) for line in f]
    value = ([None] + [v for v in values if v is not None])[-1]
    if final_checkpoint(work_dir) is None or (stage.row and value is None):
        sys.exit(f'{stage.name} left no checkpoint or metric in {work_dir}')
    print(f'== {stage.name} (seed {seed}): ' + ('trained' if value is None
          else f'{value:.2f}') + ' (done before)' * (not ran), flush=True)
    return dict(row=stage.row, value=value, ran=ran,
                wall_time=record['wall_time_s'], cpu_time=record['cpu_time_s'],
                gan_quality=read_json(f'{work_dir}/cgan/quality.json'))


def run_all(root: str, args: argparse.Namespace) -> Dict[int, Dict]:
    """Every stage of every seed (a shared one once), each once what it
    needs is done (and again if that ran); each seed's figures."""
    first, slots, runs = args.seeds[0], threading.Semaphore(args.jobs), {}
    stages = selected_stages(args.tasks, args.real_size)

    def key(name: str, seed: int) -> tuple:
        return name, first if BY_NAME[name].shared else seed

    def run(stage, seed: int) -> Dict:
        ran = [runs[key(dep, seed)].result()['ran'] and role != 'after'
               for role, dep in stage.needs.items()]
        if stage.shared_bank and seed != first:  # the first builds it
            runs[(stage.name, first)].result()
        return run_stage(stage, seed, root, args, args.force or any(ran),
                         slots)

    with ThreadPoolExecutor(len(stages) * len(args.seeds)) as pool:
        for seed in args.seeds:
            for stage in stages:
                if key(stage.name, seed) not in runs:
                    runs[key(stage.name, seed)] = pool.submit(run, stage, seed)
    return {seed: {s.name: runs[key(s.name, seed)].result() for s in stages}
            for seed in args.seeds}


def main(argv: Optional[List[str]] = None) -> None:
    """Run the stages of the command line, then write the report."""
    parser = argparse.ArgumentParser(prog='python -m demo.fashion_mnist')
    parser.add_argument('--work-dir', help='work_dirs/demo_fashion_mnist*')
    parser.add_argument('--results-dir', help='<work-dir>/results')
    parser.add_argument('--force', action='store_true', help='rerun all')
    size = parser.add_mutually_exclusive_group()
    size.add_argument('--quick', action='store_true', help='shorter '
                      'schedules, no cDR-RS: what make demo runs')
    size.add_argument('--smoke', action='store_true', help='a few '
                      'iterations per stage, to check the plumbing')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--tasks', nargs='+', choices=TASKS, default=TASKS)
    parser.add_argument('--real-size', type=int, default=REAL_SIZE,
                        help='the student\'s real images (a point of the '
                        'curve; rows: ' + ', '.join(CURVE_ROWS) + ')')
    parser.add_argument('--jobs', type=int, default=2)
    args, began = parser.parse_args(argv), time.time()
    if not 0 < args.real_size <= 55000:
        parser.error('--real-size: between 1 and the 55,000 training images,'
                     f' got {args.real_size}')
    root = osp.abspath(osp.join(REPO_ROOT, args.work_dir or (
        'work_dirs/demo_fashion_mnist' + '_smoke' * args.smoke +
        '_quick' * args.quick)))
    write_report(run_all(root, args), args, root, osp.join(
        REPO_ROOT, args.results_dir or f'{root}/results'), time.time() - began)
