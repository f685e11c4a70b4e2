# Copyright (c) cgankd_plugin contributors.
"""The default demo: cGAN-KD on real Fashion-MNIST, end to end, with tables.

    python tools/run_demo.py [--work-dir DIR] [--force] [--smoke]
                             [--seeds N ...] [--jobs N]
                             [--eval-split {test,val}]
                             [--stages NAME ...]
                             [--cfg-options STAGE:KEY=VALUE ...]

Eight stages, each a plain ``tools/train.py`` run of a config in
``configs/fashion_mnist/``, so any stage can be reproduced by hand.
Classification (10 classes):

1. ``teacher``: vgg8 on the 55,000 training images (the last 5,000 of the
   official 60,000 are held out for validation);
2. ``student``: resnet8 alone on the first 2,000 training images;
3. ``student_kd``: the same, distilled from the teacher (KD);
4. ``student_cgankd``: the same, on the 2,000 real images plus cGAN
   samples the teacher filtered and relabelled; the cGAN is trained on the
   same 2,000 images (cGAN-KD);
5. ``student_kd_cgankd``: KD and cGAN-KD together, reusing the cGAN and
   the bank of stage 4.

Regression (each image rotated by an angle drawn uniformly from
[-45, 45] degrees; the target is the angle; test images get their own):

6. ``teacher_rotation``: vgg8 on the 55,000 rotated training images;
7. ``student_rotation``: resnet8 alone on the first 2,000;
8. ``student_rotation_cgankd``: the same plus CcGAN samples (cGAN-KD).

Up to ``--jobs`` stages (default 2) train at once, each with one torch
thread, as soon as the stages they need are done. Each stage trains in
its own folder under the work dir and is skipped when
its final checkpoint and metric are there and it ran with the same
options, so a killed demo resumes at the stage it stopped in (``--force``
redoes everything; a stage is redone when a stage it depends on was). The
metric of each stage (top-1 or MAE) on the 10,000 official test images
(``--eval-split val``: on the 5,000 held-out training images, which is
what settings are chosen on) is read from the run's ``scalars.json``; the
tables are printed and written to ``<work-dir>/results.md`` (and
``results.json``), with ``error_vs_angle.png`` next to them and the
cGAN-KD stages' ``cgankd_vis/bank_samples.png`` and
``filter_histogram.png`` in their folders. ``--seeds 0 1 2`` runs the
whole demo per seed (under ``<work-dir>/seed_N``) and reports mean and
standard deviation.

``--smoke`` shrinks every stage (a few iterations on a few images, a cGAN
of a few steps, a few hundred test images) to check the plumbing in a few
minutes; its numbers mean nothing. It trains under
``work_dirs/demo_fashion_mnist_smoke`` so it never replaces the stages of
a real run.
"""
import argparse
import hashlib
import json
import os
import os.path as osp
import platform
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import (FIRST_COMPLETED, Future, ThreadPoolExecutor,
                                wait)
from typing import Dict, List, NamedTuple, Optional, Sequence

from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_WORK_DIR = osp.join('work_dirs', 'demo_fashion_mnist')
# Apart, so a smoke run never replaces the stages of a real one.
SMOKE_WORK_DIR = osp.join('work_dirs', 'demo_fashion_mnist_smoke')
CONFIG_DIR = osp.join('configs', 'fashion_mnist')
# The official test set; --smoke evaluates on its first 200 images only.
NUM_TEST_IMAGES = 10000
SMOKE_TEST_IMAGES = 200
# Lines of the training log echoed to the console as progress.
# The training processes running now, to stop when another fails.
_RUNNING: set = set()
_RUNNING_LOCK = threading.Lock()
PROGRESS_MARKERS = ('Iter(train)', 'Iter(val)', 'Saving checkpoint', 'cGAN:',
                    'bank:', 'CGANHook:')


class Stage(NamedTuple):
    """One training run of the demo.

    Attributes:
        name (str): Its folder under the work dir and its tag in the log.
        config (str): Its config, relative to the repository root.
        model (str): How the results table names the model.
        task (str): ``'classification'`` or ``'regression'``.
        teacher (str, optional): The stage whose final checkpoint is this
            one's ``model.teacher_ckpt``.
        cgan_from (str, optional): The stage whose trained cGAN and bank
            this one reuses (so two students see the same fake samples).
    """
    name: str
    config: str
    model: str
    task: str = 'classification'
    teacher: Optional[str] = None
    cgan_from: Optional[str] = None


def _config(name: str) -> str:
    return osp.join(CONFIG_DIR, name)


STAGES = (
    Stage('teacher', _config('vgg8_fashion_mnist.py'), 'vgg8 (teacher)'),
    Stage('student', _config('resnet8_fashion_mnist.py'),
          'resnet8 (student alone)'),
    Stage('student_kd', _config('kd_vgg8_resnet8_fashion_mnist.py'),
          'resnet8 + KD from vgg8 (tau 4)', teacher='teacher'),
    Stage('student_cgankd', _config('cgankd_vgg8_resnet8_fashion_mnist.py'),
          'resnet8 + cGAN-KD', teacher='teacher'),
    Stage('student_kd_cgankd',
          _config('kd_cgankd_vgg8_resnet8_fashion_mnist.py'),
          'resnet8 + KD + cGAN-KD', teacher='teacher',
          cgan_from='student_cgankd'),
    Stage('teacher_rotation', _config('vgg8_rotated_fashion_mnist.py'),
          'vgg8 (teacher)', task='regression'),
    Stage('student_rotation', _config('resnet8_rotated_fashion_mnist.py'),
          'resnet8 (student alone)', task='regression'),
    Stage('student_rotation_cgankd',
          _config('cgankd_vgg8_resnet8_rotated_fashion_mnist.py'),
          'resnet8 + cGAN-KD (CcGAN)', task='regression',
          teacher='teacher_rotation'),
)

# What each task reports, read from the run's scalars.json.
METRIC_KEYS = dict(classification='accuracy/top1', regression='regression/mae')
METRIC_NAMES = dict(classification='Top-1 (%)', regression='MAE (degrees)')
TASK_TITLES = dict(
    classification='Classification (10 classes)',
    regression='Regression: rotation angle in [-45, 45] degrees')

# A few iterations on a few images, a few hundred test images. The
# training loaders keep their workers, as in a real run (workers forked
# before the cGAN hook has built the bank once broke only real runs).
SMOKE_OPTIONS = (
    'train_cfg.max_iters=3',
    'train_cfg.val_interval=3',
    'default_hooks.checkpoint.interval=3',
    'default_hooks.logger.interval=1',
    'train_dataloader.batch_size=16',
    'val_dataloader.batch_size=100',
    f'val_dataloader.dataset.indices={SMOKE_TEST_IMAGES}',
    'val_dataloader.num_workers=0',
    'val_dataloader.persistent_workers=False',
)
SMOKE_TRAIN_IMAGES = 64
# ... and a cGAN of a few iterations making a few dozen samples.
SMOKE_CGAN_OPTIONS = (
    'custom_hooks.0.gan_iters=4',
    'custom_hooks.0.gan_checkpoint_interval=2',
    'custom_hooks.0.filter.burn_in=4',
    'custom_hooks.0.bank_batch_size=16',
    'custom_hooks.0.quality_samples=32',
    'train_dataloader.dataset.num_fake=32',
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description='Fashion-MNIST demo of cGAN-KD: a teacher, students '
        'alone, with KD, with cGAN-KD and with both, and a rotation-angle '
        'regression task; then the results tables.')
    parser.add_argument(
        '--work-dir',
        help='where the stages train and the tables go (default: '
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
    parser.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        default=[0],
        help='run the whole demo once per seed (each in <work-dir>/seed_N '
        'when more than one) and report the mean and standard deviation')
    parser.add_argument(
        '--jobs',
        type=int,
        default=2,
        help='stages that train at once, one torch thread each (default 2: '
        'the two chains, classification and regression, overlap on a '
        '2-core machine)')
    parser.add_argument(
        '--eval-split',
        choices=('test', 'val'),
        default='test',
        help="evaluate on the official test images ('test', what is "
        "reported) or on the 5,000 training images held out ('val', for "
        'choosing settings)')
    parser.add_argument(
        '--stages',
        nargs='+',
        choices=[stage.name for stage in STAGES],
        help='run only these stages (and the ones they need)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        metavar='STAGE:KEY=VALUE',
        help='extra --cfg-options of one stage, e.g. '
        'student_cgankd:train_dataloader.dataset.num_fake=4000')
    return parser.parse_args(argv)


def needed_stages(names: Optional[Sequence[str]]) -> List[Stage]:
    """The stages to run, in order: ``names`` and those they depend on."""
    if not names:
        return list(STAGES)
    by_name = {stage.name: stage for stage in STAGES}
    wanted = set()
    todo = list(names)
    while todo:
        stage = by_name[todo.pop()]
        if stage.name not in wanted:
            wanted.add(stage.name)
            todo += [dep for dep in (stage.teacher, stage.cgan_from) if dep]
    return [stage for stage in STAGES if stage.name in wanted]


def train_dataset_key(cfg: Config) -> str:
    """The option path of the real training set (inside a cGAN-KD mix)."""
    if cfg.train_dataloader.dataset.get('type') == 'SyntheticMixDataset':
        return 'train_dataloader.dataset.dataset'
    return 'train_dataloader.dataset'


def uses_cgan(cfg: Config) -> bool:
    """Whether the config trains with a CGANHook (first custom hook)."""
    hooks = cfg.get('custom_hooks') or []
    return bool(hooks) and hooks[0].get('type') == 'CGANHook'


def stage_options(stage: Stage, root: str, args: argparse.Namespace,
                  seed: int) -> List[str]:
    """The ``--cfg-options`` of one stage."""
    base = load_config(stage, [])
    options = [f'randomness.seed={seed}']
    if args.smoke:
        options += SMOKE_OPTIONS
        options.append(
            f'{train_dataset_key(base)}.indices={SMOKE_TRAIN_IMAGES}')
    if uses_cgan(base):
        options.append(f'custom_hooks.0.seed={seed}')
        if args.smoke:
            options += SMOKE_CGAN_OPTIONS
    if args.eval_split != 'test':
        options.append(f'val_dataloader.dataset.split={args.eval_split}')
    if stage.task == 'regression':
        errors = osp.join(root, stage.name, 'errors.json')
        options.append(f'val_evaluator.errors_file={errors}')
    if stage.teacher:
        teacher = next(s for s in STAGES if s.name == stage.teacher)
        teacher_cfg = load_config(teacher, options_for_size(args))
        options.append('model.teacher_ckpt=' + final_checkpoint(
            teacher_cfg, osp.join(root, teacher.name)))
    if stage.cgan_from:
        source = osp.join(root, stage.cgan_from)
        options += [
            'custom_hooks.0.generator_ckpt=' +
            osp.join(source, 'cgan', 'cgan_final.pth'),
            'train_dataloader.dataset.bank_dir=' +
            osp.join(source, 'synthetic_bank'),
        ]
    for option in args.cfg_options:
        name, _, option = option.partition(':')
        if name == stage.name:
            options.append(option)
    return options


def options_for_size(args: argparse.Namespace) -> List[str]:
    """The options that set a stage's length (its checkpoint's name)."""
    return list(SMOKE_OPTIONS) if args.smoke else []


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
    dataset = cfg.train_dataloader.dataset
    fake = None
    if dataset.get('type') == 'SyntheticMixDataset':
        fake = as_int(dataset.num_fake)
        dataset = dataset.dataset
    indices = as_int(dataset.get('indices'))
    if indices is None:
        real = 'all 55,000 training images'
    else:
        real = f'first {indices:,} training images'
    return real if fake is None else f'{real} + {fake:,} cGAN samples'


def read_metric(work_dir: str, key: str) -> Optional[float]:
    """The last value of ``key`` in the newest run in ``work_dir``.

    MMEngine writes one ``<timestamp>/vis_data/scalars.json`` per run.
    """
    if not osp.isdir(work_dir):
        return None
    for run in sorted(os.listdir(work_dir), reverse=True):
        path = osp.join(work_dir, run, 'vis_data', 'scalars.json')
        if not osp.isfile(path):
            continue
        value = None
        with open(path) as f:
            for line in f:
                if line.strip():
                    record = json.loads(line)
                    value = record.get(key, value)
        if value is not None:
            return float(value)
    return None


def read_json(path: str) -> Optional[dict]:
    """A JSON file's content, or None when it is not there."""
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def format_seconds(seconds: Optional[float]) -> str:
    """``'4m 05s'``, or ``'-'`` when unknown."""
    if seconds is None:
        return '-'
    minutes, secs = divmod(int(round(seconds)), 60)
    return f'{minutes}m {secs:02d}s'


def run_training(stage: Stage, work_dir: str, options: List[str]) -> float:
    """Train one stage with ``tools/train.py`` in a fresh interpreter.

    The full log goes to ``<work_dir>/train.log``; iteration lines are
    echoed as progress. A failure ends the demo with the log's tail.

    Args:
        stage (Stage): The stage.
        work_dir (str): Its work dir.
        options (list[str]): Its ``--cfg-options``.

    Returns:
        float: CPU time (user + system) of the run and its loader workers.
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
    # One torch thread a stage; the data loader's two workers use the
    # second core. Measured on the 2-core VM with another job running:
    # the student trains as fast as with two threads (2m05s vs 2m03s),
    # and the cGAN's small convolutions 10x faster (0.19 vs 1.8 s an
    # iteration).
    env.setdefault('OMP_NUM_THREADS', '1')
    tail: List[str] = []
    with open(log_path, 'w') as log, subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True) as proc:
        with _RUNNING_LOCK:
            _RUNNING.add(proc)
        try:
            for line in proc.stdout:
                log.write(line)
                tail = (tail + [line])[-40:]
                if any(marker in line for marker in PROGRESS_MARKERS):
                    # drop MMEngine's date/logger prefix, keep the numbers
                    print(f'  [{stage.name}] '
                          f'{line.split(" - ")[-1].strip()}', flush=True)
            # reap it ourselves: wait4 also gives its CPU time
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(proc)
    if proc.returncode != 0:
        sys.exit(f'Stage {stage.name!r} failed (exit {proc.returncode}); '
                 f'full log: {log_path}\n' + ''.join(tail))
    return usage.ru_utime + usage.ru_stime


def stop_all_training() -> None:
    """Terminate every stage still training (another one failed)."""
    with _RUNNING_LOCK:
        for proc in _RUNNING:
            proc.terminate()


def run_stage(stage: Stage, root: str, args: argparse.Namespace, seed: int,
              force: bool) -> Dict:
    """Run one stage unless it is already done; its row of the table."""
    work_dir = osp.join(root, stage.name)
    options = stage_options(stage, root, args, seed)
    cfg = load_config(stage, options)
    ckpt = final_checkpoint(cfg, work_dir)
    key = METRIC_KEYS[stage.task]
    timing_path = osp.join(work_dir, 'demo_stage.json')
    record = read_json(timing_path) or {}
    # A stage trained from another config or with other options (seed,
    # split, smoke) is not done.
    config_hash = hashlib.sha256(cfg.pretty_text.encode()).hexdigest()
    done = (not force and osp.isfile(ckpt)
            and record.get('options') == options
            and record.get('config_sha256') == config_hash
            and read_metric(work_dir, key) is not None)
    if done:
        print(f'== {stage.name}: already done ({ckpt}), skipped', flush=True)
    else:
        # A clean folder: no stale checkpoint or log of an earlier run can
        # be taken for this one's.
        shutil.rmtree(work_dir, ignore_errors=True)
        print(f'== {stage.name}: training {stage.config} '
              f'({as_int(cfg.train_cfg.max_iters)} iterations, '
              f'{describe_training_data(cfg)}) in {work_dir}', flush=True)
        start = time.time()
        cpu_time = run_training(stage, work_dir, options)
        # On a shared machine (or beside another stage) wall time depends
        # on the others' load; the CPU time says what the stage cost.
        record = dict(
            wall_time_s=time.time() - start,
            cpu_time_s=cpu_time,
            options=options,
            config_sha256=config_hash)
        with open(timing_path, 'w') as f:
            json.dump(record, f, indent=2)
    value = read_metric(work_dir, key)
    if value is None or not osp.isfile(ckpt):
        sys.exit(f'Stage {stage.name!r} finished without its checkpoint '
                 f'{ckpt} or a {key} in its scalars.json')
    quality = read_json(osp.join(work_dir, 'cgan', 'quality.json'))
    print(f'== {stage.name}: {key} {value:.2f}, '
          f'{format_seconds(record.get("wall_time_s"))}', flush=True)
    return dict(
        stage=stage.name,
        task=stage.task,
        model=stage.model,
        data=describe_training_data(cfg),
        value=value,
        wall_time=record.get('wall_time_s'),
        cpu_time=record.get('cpu_time_s'),
        checkpoint=ckpt,
        gan_quality=quality,
        ran=not done)


def run_demo(root: str, args: argparse.Namespace, seed: int) -> List[Dict]:
    """Every needed stage for one seed; their rows, in stage order.

    Up to ``args.jobs`` stages train at once, each as soon as the stages
    it needs are done (each stage uses one torch thread).
    """
    os.makedirs(root, exist_ok=True)
    stages = needed_stages(args.stages)
    rows: Dict[str, Dict] = {}
    pending = list(stages)
    running: Dict[Future, Stage] = {}
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        while pending or running:
            for stage in list(pending):
                deps = [dep for dep in (stage.teacher, stage.cgan_from) if dep]
                if len(running) >= args.jobs or any(dep not in rows
                                                    for dep in deps):
                    continue
                # A student of a retrained teacher or cGAN would be stale.
                force = args.force or any(rows[dep]['ran'] for dep in deps)
                running[pool.submit(run_stage, stage, root, args, seed,
                                    force)] = stage
                pending.remove(stage)
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                stage = running.pop(future)
                try:
                    rows[stage.name] = future.result()
                except BaseException:
                    # one stage failed: stop the others, then report
                    stop_all_training()
                    raise
    plot_errors_against_angle(root, list(rows.values()))
    return [rows[stage.name] for stage in stages]


def plot_errors_against_angle(root: str, rows: List[Dict]) -> None:
    """``error_vs_angle.png``: each regression student's MAE per angle."""
    students = [
        row for row in rows
        if row['task'] == 'regression' and row['stage'] != 'teacher_rotation'
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


def format_value(values: List[float]) -> str:
    """One run's value, or the mean +- standard deviation of several."""
    if len(values) == 1:
        return f'{values[0]:.2f}'
    mean = sum(values) / len(values)
    std = (sum((v - mean)**2 for v in values) / (len(values) - 1))**0.5
    return f'{mean:.2f} +- {std:.2f}'


def results_tables(runs: Dict[int, List[Dict]], args: argparse.Namespace
                   ) -> str:
    """The results of every seed as one markdown table per task."""
    if args.smoke:
        where = f'first {SMOKE_TEST_IMAGES} test images'
    elif args.eval_split == 'val':
        where = '5,000 held-out training images (validation)'
    else:
        where = f'{NUM_TEST_IMAGES:,} test images'
    seeds = sorted(runs)
    first = runs[seeds[0]]
    over = '' if len(seeds) == 1 else (f', mean +- std over seeds '
                                       f'{", ".join(map(str, seeds))}')
    blocks = []
    for task in ('classification', 'regression'):
        rows = [i for i, row in enumerate(first) if row['task'] == task]
        if not rows:
            continue
        lines = [
            f'### {TASK_TITLES[task]}', '',
            f'| Model | Training data | {METRIC_NAMES[task]}, {where}{over} '
            '| Wall time |', '| --- | --- | ---: | ---: |'
        ]
        for i in rows:
            values = [runs[seed][i]['value'] for seed in seeds]
            times = [runs[seed][i]['wall_time'] for seed in seeds]
            known = [t for t in times if t is not None]
            wall = sum(known) / len(known) if known else None
            lines.append(f'| {first[i]["model"]} | {first[i]["data"]} | '
                         f'{format_value(values)} | {format_seconds(wall)} |')
        blocks.append('\n'.join(lines))
    return '\n\n'.join(blocks)


def gan_notes(runs: Dict[int, List[Dict]]) -> str:
    """The cGANs' quality figures, as logged when their training ended."""
    notes = []
    for seed in sorted(runs):
        for row in runs[seed]:
            quality = row.get('gan_quality')
            if quality:
                figures = ', '.join(
                    f'{k} {v:.3f}' for k, v in sorted(quality.items())
                    if isinstance(v, (int, float)))
                notes.append(f'- seed {seed}, {row["stage"]}: {figures}')
    if not notes:
        return ''
    return ('cGAN quality when its training ended (teacher-feature Frechet '
            'distance and teacher agreement, see docs):\n' +
            '\n'.join(notes))


def main(argv: Optional[List[str]] = None) -> None:
    """Run the stages for every seed, then print and write the tables."""
    args = parse_args(argv)
    root = args.work_dir or (SMOKE_WORK_DIR if args.smoke else
                             DEFAULT_WORK_DIR)
    root = osp.abspath(osp.join(REPO_ROOT, root))
    start = time.time()
    runs: Dict[int, List[Dict]] = {}
    seed_times = []
    for seed in args.seeds:
        seed_root = root if len(args.seeds) == 1 else osp.join(
            root, f'seed_{seed}')
        seed_start = time.time()
        runs[seed] = run_demo(seed_root, args, seed)
        seed_times.append(
            f'seed {seed} {format_seconds(time.time() - seed_start)}')
    total = time.time() - start

    tables = results_tables(runs, args)
    title = 'Fashion-MNIST demo' + (' (SMOKE: numbers mean nothing)'
                                    if args.smoke else '')
    cpu = sum(row['cpu_time'] or 0.0 for rows in runs.values()
              for row in rows)
    seeds = ', '.join(map(str, args.seeds))
    notes = (f'Seed(s) {seeds}. Hardware: {hardware()}. Total wall time of '
             f'this invocation: {format_seconds(total)} '
             f'({", ".join(seed_times)}; a stage skipped as already done '
             'counts as 0); CPU time of the stages, all '
             f'threads: {format_seconds(cpu)}. Plots: '
             '<stage>/cgankd_vis/bank_samples.png and filter_histogram.png '
             'for the cGAN-KD stages, error_vs_angle.png for the '
             'regression students.')
    report = f'# {title}\n\n{tables}\n\n{notes}\n'
    quality = gan_notes(runs)
    if quality:
        report += f'\n{quality}\n'
    os.makedirs(root, exist_ok=True)
    results_path = osp.join(root, 'results.md')
    with open(results_path + '.tmp', 'w') as f:
        f.write(report)
    os.replace(results_path + '.tmp', results_path)
    with open(osp.join(root, 'results.json'), 'w') as f:
        json.dump({str(seed): rows for seed, rows in runs.items()}, f,
                  indent=2)
    print(f'\n{report}\nWritten to {results_path}', flush=True)


if __name__ == '__main__':
    main()
