# Copyright (c) cgankd_plugin contributors.
"""The default demo: KD on real Fashion-MNIST, end to end, with a table.

    python tools/run_demo.py [--work-dir DIR] [--force] [--smoke]

Three stages, each a plain ``tools/train.py`` run of a config in
``configs/fashion_mnist/``, so any stage can be reproduced by hand:

1. the teacher on all 60,000 training images;
2. the student alone on the first 2,000 training images;
3. the same student, same data, distilled from the teacher (KD).

Each stage trains in its own folder under the work dir and is skipped when
its final checkpoint and its final top-1 are already there, so a killed
demo resumes at the stage it stopped in (``--force`` redoes everything).
The top-1 of each stage on the 10,000 official test images is read from
the run's ``scalars.json``; the table is printed and written to
``<work-dir>/results.md``. The seed is fixed (``randomness.seed=0`` in
``configs/_base_/default_runtime.py``).

``--smoke`` shrinks every stage (a few iterations on a few images, a few
hundred test images) to check the plumbing in a minute or two; its
numbers mean nothing. It trains under ``work_dirs/demo_fashion_mnist_smoke``
so it never replaces the stages of a real run.
"""
import argparse
import json
import os
import os.path as osp
import platform
import resource
import shutil
import subprocess
import sys
import time
from typing import Dict, List, NamedTuple, Optional

from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_WORK_DIR = osp.join('work_dirs', 'demo_fashion_mnist')
# Apart, so a smoke run never replaces the stages of a real one.
SMOKE_WORK_DIR = osp.join('work_dirs', 'demo_fashion_mnist_smoke')
CONFIG_DIR = osp.join('configs', 'fashion_mnist')
# The official test set; --smoke evaluates on its first 200 images only.
NUM_TEST_IMAGES = 10000
SMOKE_TEST_IMAGES = 200
TOP1_KEY = 'accuracy/top1'
# Lines of the training log echoed to the console as progress.
PROGRESS_MARKERS = ('Iter(train)', 'Iter(val)', 'Saving checkpoint')


class Stage(NamedTuple):
    """One training run of the demo.

    Attributes:
        name (str): Its folder under the work dir and its tag in the log.
        config (str): Its config, relative to the repository root.
        model (str): How the results table names the model.
        needs_teacher (bool): Whether it distils from the first stage.
    """
    name: str
    config: str
    model: str
    needs_teacher: bool


STAGES = (
    Stage('teacher', osp.join(CONFIG_DIR, 'vgg8_fashion_mnist.py'),
          'vgg8 (teacher)', False),
    Stage('student', osp.join(CONFIG_DIR, 'resnet8_fashion_mnist.py'),
          'resnet8 (student alone)', False),
    Stage('student_kd',
          osp.join(CONFIG_DIR, 'kd_vgg8_resnet8_fashion_mnist.py'),
          'resnet8 + KD from vgg8 (tau 4)', True),
)

# A few iterations on a few images, single-process loaders (starting
# workers would cost more than the work), a few hundred test images.
SMOKE_OPTIONS = (
    'train_cfg.max_iters=3',
    'train_cfg.val_interval=3',
    'default_hooks.checkpoint.interval=3',
    'default_hooks.logger.interval=1',
    'train_dataloader.batch_size=16',
    'train_dataloader.dataset.indices=64',
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'val_dataloader.batch_size=100',
    f'val_dataloader.dataset.indices={SMOKE_TEST_IMAGES}',
    'val_dataloader.num_workers=0',
    'val_dataloader.persistent_workers=False',
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description='Fashion-MNIST demo: teacher, student alone, student '
        'with KD, then a results table.')
    parser.add_argument(
        '--work-dir',
        help='where the stages train and the table goes (default: '
        f'{DEFAULT_WORK_DIR}, or {SMOKE_WORK_DIR} with --smoke)')
    parser.add_argument(
        '--force',
        action='store_true',
        help='redo every stage, even those already finished')
    parser.add_argument(
        '--smoke',
        action='store_true',
        help='a few iterations per stage on a few images, to check the '
        'plumbing; the numbers mean nothing')
    return parser.parse_args(argv)


def stage_options(stage: Stage, smoke: bool,
                  teacher_ckpt: Optional[str]) -> List[str]:
    """The ``--cfg-options`` of one stage."""
    options = list(SMOKE_OPTIONS) if smoke else []
    if stage.needs_teacher:
        options.append(f'model.teacher_ckpt={teacher_ckpt}')
    return options


def load_config(stage: Stage, options: List[str]) -> Config:
    """The stage's config as ``tools/train.py`` will see it."""
    # No custom imports: reading the settings needs no torch.
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, stage.config), import_custom_modules=False)
    if options:
        cfg.merge_from_dict(
            dict(option.split('=', 1) for option in options))
    return cfg


def as_int(value) -> Optional[int]:
    """``value`` as an int (``--cfg-options`` values may be strings)."""
    return None if value is None else int(value)


def final_checkpoint(cfg: Config, work_dir: str) -> str:
    """Where the stage's last checkpoint lands (an iteration-based run)."""
    return osp.join(work_dir, f'iter_{as_int(cfg.train_cfg.max_iters)}.pth')


def describe_training_data(cfg: Config) -> str:
    """The table's "training data" cell, read from the config."""
    indices = as_int(cfg.train_dataloader.dataset.get('indices'))
    if indices is None:
        return 'all 60,000 training images'
    return f'first {indices:,} training images'


def read_top1(work_dir: str) -> Optional[float]:
    """The last top-1 of the newest run in ``work_dir``, or ``None``.

    MMEngine writes one ``<timestamp>/vis_data/scalars.json`` per run.
    """
    if not osp.isdir(work_dir):
        return None
    for run in sorted(os.listdir(work_dir), reverse=True):
        path = osp.join(work_dir, run, 'vis_data', 'scalars.json')
        if not osp.isfile(path):
            continue
        top1 = None
        with open(path) as f:
            for line in f:
                if line.strip():
                    record = json.loads(line)
                    top1 = record.get(TOP1_KEY, top1)
        if top1 is not None:
            return float(top1)
    return None


def format_seconds(seconds: Optional[float]) -> str:
    """``'4m 05s'``, or ``'-'`` when unknown."""
    if seconds is None:
        return '-'
    minutes, secs = divmod(int(round(seconds)), 60)
    return f'{minutes}m {secs:02d}s'


def children_cpu_seconds() -> float:
    """CPU time (user + system) of this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_training(stage: Stage, work_dir: str, options: List[str]) -> None:
    """Train one stage with ``tools/train.py`` in a fresh interpreter.

    The full log goes to ``<work_dir>/train.log``; iteration lines are
    echoed as progress. A failure ends the demo with the log's tail.

    Args:
        stage (Stage): The stage.
        work_dir (str): Its work dir.
        options (list[str]): Its ``--cfg-options``.
    """
    cmd = [
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'train.py'),
        osp.join(REPO_ROOT, stage.config), '--work-dir', work_dir
    ]
    if options:
        cmd += ['--cfg-options', *options]
    os.makedirs(work_dir, exist_ok=True)
    log_path = osp.join(work_dir, 'train.log')
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    # OpenMP threads that wait by spinning burn the cores other processes
    # (or their own sibling thread) need: on a busy 2-core machine the
    # student trained 2.8x slower with the default policy than with
    # passive waiting (measured), and an idle machine loses nothing.
    env.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
    tail: List[str] = []
    with open(log_path, 'w') as log, subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True) as proc:
        for line in proc.stdout:
            log.write(line)
            tail = (tail + [line])[-40:]
            if any(marker in line for marker in PROGRESS_MARKERS):
                # drop MMEngine's date/logger prefix, keep the numbers
                print(f'  [{stage.name}] {line.split(" - ")[-1].strip()}',
                      flush=True)
    if proc.returncode != 0:
        sys.exit(f'Stage {stage.name!r} failed (exit {proc.returncode}); '
                 f'full log: {log_path}\n' + ''.join(tail))


def run_stage(stage: Stage, root: str, smoke: bool, force: bool,
              teacher_ckpt: Optional[str]) -> Dict:
    """Run one stage unless it is already done; its row of the table."""
    work_dir = osp.join(root, stage.name)
    options = stage_options(stage, smoke, teacher_ckpt)
    cfg = load_config(stage, options)
    ckpt = final_checkpoint(cfg, work_dir)
    timing_path = osp.join(work_dir, 'demo_stage.json')
    done = (not force and osp.isfile(ckpt)
            and read_top1(work_dir) is not None)
    if done:
        print(f'== {stage.name}: already done ({ckpt}), skipped', flush=True)
        wall_time = cpu_time = None
        if osp.isfile(timing_path):
            with open(timing_path) as f:
                timing = json.load(f)
            wall_time = timing.get('wall_time_s')
            cpu_time = timing.get('cpu_time_s')
    else:
        # A clean folder: no stale checkpoint or log of an earlier run can
        # be taken for this one's.
        shutil.rmtree(work_dir, ignore_errors=True)
        print(f'== {stage.name}: training {stage.config} '
              f'({as_int(cfg.train_cfg.max_iters)} iterations, '
              f'{describe_training_data(cfg)}) in {work_dir}', flush=True)
        start, start_cpu = time.time(), children_cpu_seconds()
        run_training(stage, work_dir, options)
        wall_time = time.time() - start
        # On a shared machine wall time depends on the others' load; the
        # CPU time says what the stage itself cost.
        cpu_time = children_cpu_seconds() - start_cpu
        with open(timing_path, 'w') as f:
            json.dump(dict(wall_time_s=wall_time, cpu_time_s=cpu_time), f)
    top1 = read_top1(work_dir)
    if top1 is None or not osp.isfile(ckpt):
        sys.exit(f'Stage {stage.name!r} finished without its checkpoint '
                 f'{ckpt} or a {TOP1_KEY} in its scalars.json')
    print(f'== {stage.name}: top-1 {top1:.2f} %, '
          f'{format_seconds(wall_time)}', flush=True)
    return dict(
        model=stage.model,
        data=describe_training_data(cfg),
        top1=top1,
        wall_time=wall_time,
        cpu_time=cpu_time,
        checkpoint=ckpt,
        ran=not done)


def hardware() -> str:
    """A short description of where the demo ran."""
    import torch  # late: only the final table needs it
    where = f'{os.cpu_count()} CPU cores ({platform.machine()})'
    if torch.cuda.is_available():
        where = f'{torch.cuda.get_device_name(0)}, {where}'
    return where


def results_table(rows: List[Dict], smoke: bool) -> str:
    """The results as a markdown table."""
    if smoke:
        test = f'Top-1 (%), first {SMOKE_TEST_IMAGES} test images'
    else:
        test = f'Top-1 (%), {NUM_TEST_IMAGES:,} test images'
    lines = [
        f'| Model | Training data | {test} | Wall time |',
        '| --- | --- | ---: | ---: |',
    ]
    for row in rows:
        lines.append(f'| {row["model"]} | {row["data"]} | '
                     f'{row["top1"]:.2f} | {format_seconds(row["wall_time"])}'
                     ' |')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> None:
    """Run the stages in order, then print and write the table."""
    args = parse_args(argv)
    root = args.work_dir or (SMOKE_WORK_DIR if args.smoke else
                             DEFAULT_WORK_DIR)
    root = osp.abspath(osp.join(REPO_ROOT, root))
    os.makedirs(root, exist_ok=True)
    start = time.time()
    rows: List[Dict] = []
    teacher_ckpt: Optional[str] = None
    teacher_ran = False
    for stage in STAGES:
        # A student distilled from an older teacher would be stale.
        force = args.force or (stage.needs_teacher and teacher_ran)
        row = run_stage(stage, root, args.smoke, force, teacher_ckpt)
        if stage is STAGES[0]:
            teacher_ckpt, teacher_ran = row['checkpoint'], row['ran']
        rows.append(row)
    total = time.time() - start

    table = results_table(rows, args.smoke)
    title = 'Fashion-MNIST demo' + (' (SMOKE: numbers mean nothing)'
                                    if args.smoke else '')
    cpu = ', '.join(f'{stage.name} {format_seconds(row["cpu_time"])}'
                    for stage, row in zip(STAGES, rows))
    notes = (f'Seed 0. Hardware: {hardware()}. Total wall time of this '
             f'invocation: {format_seconds(total)} (a stage skipped as '
             'already done counts as 0). CPU time of the stages, all '
             f'threads: {cpu}.')
    report = f'# {title}\n\n{table}\n\n{notes}\n'
    results_path = osp.join(root, 'results.md')
    with open(results_path, 'w') as f:
        f.write(report)
    print(f'\n{table}\n\n{notes}\nWritten to {results_path}', flush=True)


if __name__ == '__main__':
    main()
