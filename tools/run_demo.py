# Copyright (c) cgankd_plugin contributors.
"""cGAN-KD on real Fashion-MNIST, with the controls that make it evidence.

    python tools/run_demo.py [--work-dir DIR] [--results-dir DIR]
                             [--seeds N ...] [--jobs N] [--tasks T ...]
                             [--eval-split {test,val}] [--stages NAME ...]
                             [--cfg-options STAGE:KEY=VALUE ...]
                             [--force] [--quick | --smoke]

Every stage is a plain ``tools/train.py`` (or ``tools/build_bank.py``) run
of a config in ``configs/fashion_mnist/``, so any row can be reproduced by
hand. The protocol is the paper's (DESIGN.md, section 1): every cGAN-KD
student is the converged student alone, fine-tuned for a fixed number of
epochs over real + fake data at a fifth of the learning rate; every
control is fine-tuned from the same checkpoint with the same steps and
schedule (DESIGN.md, section 6). Per task:

- ``teacher`` (shared by the seeds): trained on the 55,000 training images
  (the last 5,000 of the official 60,000 are the validation split);
- ``cgan`` (shared): the cGAN, trained on the teacher's images;
- ``student``: the student alone on the first 2,000 images, to
  convergence (the paper's baseline);
- ``finetune_real``: ``student`` fine-tuned on its real images alone, same
  steps as the cGAN-KD fine-tune (more steps alone must not explain a gain);
- ``finetune_kd``: the same with KD (classification; the control of
  ``kd_cgankd``);
- ``cgankd``: ``student`` fine-tuned on real + filtered, relabelled fakes;
- ``kd_cgankd``: KD + cGAN-KD (classification);
- ``real_bank``: the upper bound, a bank of real images the student does
  not see, filtered and relabelled like the fakes.

The regression task (``rotation``) regresses the rotation angle of each
image (drawn from [-45, 45] degrees) with a CcGAN. Up to ``--jobs`` stages
train at once (one torch thread each) as soon as the stages they need are
done; a stage is skipped when its checkpoint and metric are there and it
ran with the same options and config, so a killed run resumes. Figures are
on the 10,000 official test images (``--eval-split val``: the validation
split, on which settings are chosen). The tool writes
``<results-dir>/<task>.json`` (one figure per seed and row, the format of
``docs/results/``), ``<work-dir>/results.md`` with the tables and the
paired comparisons, and the pictures (bank samples, filter histograms,
error against the angle).

``--quick`` (``make demo``) is a shorter look at the same experiment:
every schedule at 40 % of its length, the cGANs at a third of theirs and
cDR-RS off, about half an hour on 2 cores for one seed (the full one
takes over an hour); it trains under ``work_dirs/demo_fashion_mnist_quick``.
``--smoke`` shrinks every stage to check the plumbing in a few minutes;
its numbers mean nothing, and it trains under
``work_dirs/demo_fashion_mnist_smoke``.
"""
import argparse
import hashlib
import json
import math
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
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_WORK_DIR = osp.join('work_dirs', 'demo_fashion_mnist')
# Apart, so a smoke run never replaces the stages of a real one.
SMOKE_WORK_DIR = osp.join('work_dirs', 'demo_fashion_mnist_smoke')
QUICK_WORK_DIR = osp.join('work_dirs', 'demo_fashion_mnist_quick')
# --quick: the share of every schedule, and of every cGAN's iterations
QUICK_SCHEDULE = 0.4
QUICK_GAN_ITERS = 1 / 3
CONFIG_DIR = osp.join('configs', 'fashion_mnist')
NUM_TEST_IMAGES = 10000
SMOKE_TEST_IMAGES = 200
SMOKE_TRAIN_IMAGES = 64
SMOKE_GAN_IMAGES = 256
# The training processes running now, to stop when another fails.
_RUNNING: set = set()
_RUNNING_LOCK = threading.Lock()
# Lines of the training log echoed to the console as progress.
PROGRESS_MARKERS = ('Iter(train)', 'Epoch(train)', 'Epoch(val)',
                    'Iter(val)', 'Saving checkpoint', 'cGAN:', 'bank:',
                    'CGANHook:')


class Stage(NamedTuple):
    """One training run of the experiment.

    Attributes:
        name (str): Its folder and its tag in the log.
        task (str): ``'classification'`` or ``'rotation'``.
        row (str): Its row in ``<task>.json`` (None: not a row).
        config (str): Its config, relative to the repository root.
        model (str): How the results table names it.
        shared (bool): Trained once for all seeds (seed 0's options).
        tool (str): ``'train'`` or ``'build_bank'`` (cGAN only).
        teacher (str, optional): The stage whose checkpoint is this one's
            ``model.teacher_ckpt``.
        init_from (str, optional): The stage whose checkpoint this one
            fine-tunes (``load_from``).
        cgan_from (str, optional): The stage whose trained cGAN this one
            loads (``custom_hooks.0.generator_ckpt``).
        shared_bank (bool): Its synthetic bank is built once, by the first
            seed (bank seed = the first seed), in ``<root>/banks/<name>``,
            and reused by the other seeds' students, as the teacher and the
            cGAN are: for banks whose cDR-RS fit costs more than the
            student (the seeds then vary the students, not the bank). The
            shared banks keep their cDR-RS models in
            ``<root>/banks/density_ratio`` (``CGANHook.density_ratio_cache``),
            so banks that differ only in filtering fit it once.
        after (str, optional): A stage of the same seed that must finish
            first, though this one does not use its output (so the second
            shared bank finds the cDR-RS model the first one fitted).
    """
    name: str
    task: str
    row: Optional[str]
    config: str
    model: str
    shared: bool = False
    tool: str = 'train'
    teacher: Optional[str] = None
    init_from: Optional[str] = None
    cgan_from: Optional[str] = None
    shared_bank: bool = False
    after: Optional[str] = None

    @property
    def deps(self) -> List[str]:
        return [d for d in (self.teacher, self.init_from, self.cgan_from) if d]


def _config(name: str) -> str:
    return osp.join(CONFIG_DIR, name)


def _task_stages(task: str, suffix: str, configs: Dict[str, str],
                 teacher: str, student: str,
                 shared_banks: bool = False) -> Tuple[Stage, ...]:
    """The stages of one task; ``configs`` maps a row to its config.

    ``shared_banks``: the cGAN-KD stages share one bank across seeds.
    """

    def name(row):
        return row + suffix

    stages = [
        Stage(name('teacher'), task, 'teacher', configs['teacher'],
              f'{teacher} (teacher)', shared=True),
        Stage(name('cgan'), task, None, configs['cgankd'],
              'cGAN (trained on the teacher\'s images)', shared=True,
              tool='build_bank', teacher=name('teacher')),
        Stage(name('student'), task, 'student', configs['student'],
              f'{student} alone, converged'),
        Stage(name('finetune_real'), task, 'finetune_real',
              configs['finetune_real'],
              f'{student} fine-tuned on real only (same steps)',
              init_from=name('student')),
    ]
    if 'finetune_kd' in configs:
        stages.append(
            Stage(name('finetune_kd'), task, 'finetune_kd',
                  configs['finetune_kd'], f'{student} fine-tuned with KD',
                  teacher=name('teacher'), init_from=name('student')))
    stages.append(
        Stage(name('cgankd'), task, 'cgankd', configs['cgankd'],
              f'{student} + cGAN-KD', teacher=name('teacher'),
              init_from=name('student'), cgan_from=name('cgan'),
              shared_bank=shared_banks))
    if 'kd_cgankd' in configs:
        stages.append(
            Stage(name('kd_cgankd'), task, 'kd_cgankd', configs['kd_cgankd'],
                  f'{student} + KD + cGAN-KD', teacher=name('teacher'),
                  init_from=name('student'), cgan_from=name('cgan'),
                  shared_bank=shared_banks,
                  after=name('cgankd') if shared_banks else None))
    stages.append(
        Stage(name('real_bank'), task, 'real_bank', configs['real_bank'],
              f'{student} + bank of unseen real images (upper bound)',
              teacher=name('teacher'), init_from=name('student')))
    return tuple(stages)


STAGES = _task_stages(
    'classification', '',
    dict(teacher=_config('vgg8_fashion_mnist.py'),
         student=_config('resnet8_fashion_mnist.py'),
         finetune_real=_config('resnet8_finetune_fashion_mnist.py'),
         finetune_kd=_config('kd_vgg8_resnet8_fashion_mnist.py'),
         cgankd=_config('cgankd_vgg8_resnet8_fashion_mnist.py'),
         kd_cgankd=_config('kd_cgankd_vgg8_resnet8_fashion_mnist.py'),
         real_bank=_config('realbank_vgg8_resnet8_fashion_mnist.py')),
    # their banks fit cDR-RS (about 25 CPU minutes each)
    'vgg8', 'resnet8', shared_banks=True) + _task_stages(
        'rotation', '_rotation',
        dict(teacher=_config('vgg8_rotated_fashion_mnist.py'),
             student=_config('resnet8_rotated_fashion_mnist.py'),
             finetune_real=_config(
                 'resnet8_finetune_rotated_fashion_mnist.py'),
             cgankd=_config('cgankd_vgg8_resnet8_rotated_fashion_mnist.py'),
             real_bank=_config(
                 'realbank_vgg8_resnet8_rotated_fashion_mnist.py')),
        'vgg8', 'resnet8')
TASKS = ('classification', 'rotation')
STAGES_BY_NAME = {stage.name: stage for stage in STAGES}

# What each task reports, read from the run's scalars.json.
METRIC_KEYS = dict(classification='accuracy/top1', rotation='regression/mae')
METRIC_NAMES = dict(classification='top1', rotation='mae')
METRIC_TITLES = dict(classification='Top-1 (%)', rotation='MAE (degrees)')
HIGHER_IS_BETTER = dict(classification=True, rotation=False)
TASK_TITLES = dict(
    classification='Classification (Fashion-MNIST, 10 classes)',
    rotation='Regression: rotation angle in [-45, 45] degrees')
# The comparisons the experiment exists for: (row, control).
COMPARISONS = (('cgankd', 'student'), ('cgankd', 'finetune_real'),
               ('kd_cgankd', 'finetune_kd'), ('real_bank', 'finetune_real'),
               ('real_bank', 'cgankd'))

# A few iterations on a few images, a few hundred test images. The
# training loaders keep their workers, as in a real run.
SMOKE_OPTIONS = (
    'default_hooks.logger.interval=1',
    'train_dataloader.batch_size=16',
    'val_dataloader.batch_size=100',
    f'val_dataloader.dataset.indices={SMOKE_TEST_IMAGES}',
    'val_dataloader.num_workers=0',
    'val_dataloader.persistent_workers=False',
)
SMOKE_EPOCH_OPTIONS = ('train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                       'default_hooks.checkpoint.interval=1')
SMOKE_ITER_OPTIONS = ('train_cfg.max_iters=3', 'train_cfg.val_interval=3',
                      'default_hooks.checkpoint.interval=3')
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
        description='cGAN-KD on Fashion-MNIST with its controls: teacher, '
        'converged student, real-only and KD fine-tunes, cGAN-KD, KD + '
        'cGAN-KD and a bank of real images; classification and rotation-'
        'angle regression; then the tables and docs/results-style JSON.')
    parser.add_argument(
        '--work-dir',
        help='where the stages train and the tables go (default: '
        f'{DEFAULT_WORK_DIR}; {QUICK_WORK_DIR} with --quick, '
        f'{SMOKE_WORK_DIR} with --smoke)')
    parser.add_argument(
        '--results-dir',
        help='where <task>.json goes (default: <work-dir>/results; the '
        'documented 3-seed run writes docs/results)')
    parser.add_argument(
        '--force', action='store_true', help='redo every stage')
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        '--quick',
        action='store_true',
        help=f'every schedule at {QUICK_SCHEDULE:.0%} of its length, the '
        f'cGANs at {QUICK_GAN_ITERS:.0%} of their iterations, cDR-RS off: '
        'the experiment in about half an hour (make demo)')
    size.add_argument(
        '--smoke',
        action='store_true',
        help='a few iterations per stage on a few images, to check the '
        'plumbing; the numbers mean nothing')
    parser.add_argument(
        '--seeds', type=int, nargs='+', default=[0],
        help='the seeds of the per-seed stages (the teacher and the cGAN '
        'are trained once, with the first seed)')
    parser.add_argument(
        '--jobs', type=int, default=2,
        help='stages that train at once, one torch thread each')
    parser.add_argument(
        '--tasks', nargs='+', choices=TASKS, default=list(TASKS),
        help='which tasks to run')
    parser.add_argument(
        '--eval-split', choices=('test', 'val'), default='test',
        help="report on the official test images ('test') or on the "
        "5,000 held-out training images ('val', for choosing settings)")
    parser.add_argument(
        '--stages', nargs='+', choices=sorted(STAGES_BY_NAME),
        help='run only these stages (and the ones they need)')
    parser.add_argument(
        '--cfg-options', nargs='+', default=[], metavar='STAGE:KEY=VALUE',
        help='extra --cfg-options of one stage, e.g. '
        'cgankd:train_dataloader.dataset.num_fake=8000')
    return parser.parse_args(argv)


def needed_stages(names: Optional[Sequence[str]],
                  tasks: Sequence[str] = TASKS) -> List[Stage]:
    """The stages to run, in order: ``names`` and those they depend on."""
    if not names:
        return [stage for stage in STAGES if stage.task in tasks]
    wanted = set()
    todo = list(names)
    while todo:
        stage = STAGES_BY_NAME[todo.pop()]
        if stage.name not in wanted:
            wanted.add(stage.name)
            todo += stage.deps
    return [stage for stage in STAGES if stage.name in wanted]


# ------------------------------------------------------------- configs
def load_config(stage: Stage, options: Sequence[str] = ()) -> Config:
    """The stage's config as ``tools/train.py`` will see it."""
    # No custom imports: reading the settings needs no torch.
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, stage.config), import_custom_modules=False)
    if options:
        cfg.merge_from_dict(
            dict(option.split('=', 1) for option in options))
    return cfg


def real_dataset_key(cfg: Config) -> str:
    """The option path of the real training set (inside any wrapper)."""
    key = 'train_dataloader.dataset'
    dataset = cfg.train_dataloader.dataset
    while dataset.get('type') in ('SyntheticMixDataset', 'RepeatDataset'):
        key += '.dataset'
        dataset = dataset.dataset
    return key


def uses_cgan(cfg: Config) -> bool:
    """Whether the config trains with a CGANHook (first custom hook)."""
    hooks = cfg.get('custom_hooks') or []
    return bool(hooks) and hooks[0].get('type') == 'CGANHook'


def as_int(value) -> Optional[int]:
    """``value`` as an int (``--cfg-options`` values may be strings)."""
    return None if value is None else int(value)


def final_checkpoint(cfg: Config, work_dir: str) -> str:
    """Where the stage's last checkpoint lands."""
    if cfg.train_cfg.get('by_epoch', False):
        return osp.join(work_dir,
                        f'epoch_{as_int(cfg.train_cfg.max_epochs)}.pth')
    return osp.join(work_dir, f'iter_{as_int(cfg.train_cfg.max_iters)}.pth')


def cgan_weights(work_dir: str) -> str:
    """Where the cGAN stage leaves its trained cGAN."""
    return osp.join(work_dir, 'cgan', 'cgan_final.pth')


def stage_dir(root: str, stage: Stage, seed: int) -> str:
    """A shared stage's folder is the root's; the others are per seed."""
    return osp.join(root if stage.shared else osp.join(root, f'seed_{seed}'),
                    stage.name)


def size_options(stage: Stage, args: argparse.Namespace) -> List[str]:
    """The options that set a stage's length (its checkpoint's name)."""
    if args.quick:
        return scaled_schedule_options(load_config(stage), QUICK_SCHEDULE)
    if not args.smoke:
        return []
    base = load_config(stage)
    by_epoch = base.train_cfg.get('by_epoch', False)
    return list(SMOKE_OPTIONS) + list(
        SMOKE_EPOCH_OPTIONS if by_epoch else SMOKE_ITER_OPTIONS)


def scaled_schedule_options(cfg: Config, share: float) -> List[str]:
    """Options that shorten a config's schedule to ``share`` of it.

    The length, the validation and checkpoint intervals, and every
    parameter scheduler's ``begin`` / ``end`` / ``milestones``, so the
    learning rate follows the same curve over the shorter run.
    """

    def scaled(value) -> int:
        return max(1, int(round(int(value) * share))) if value else 0

    by_epoch = cfg.train_cfg.get('by_epoch', False)
    length = 'max_epochs' if by_epoch else 'max_iters'
    total = scaled(cfg.train_cfg[length])
    options = [
        f'train_cfg.{length}={total}', f'train_cfg.val_interval={total}',
        f'default_hooks.checkpoint.interval={total}'
    ]
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = {'param_scheduler': schedulers}
    else:
        schedulers = {
            f'param_scheduler.{i}': scheduler
            for i, scheduler in enumerate(schedulers)
        }
    for key, scheduler in schedulers.items():
        for name in ('begin', 'end'):
            if name in scheduler:
                options.append(f'{key}.{name}={scaled(scheduler[name])}')
        if 'milestones' in scheduler:
            milestones = ','.join(
                str(scaled(m)) for m in scheduler['milestones'])
            options.append(f'{key}.milestones=[{milestones}]')
    return options


def stage_options(stage: Stage, root: str, args: argparse.Namespace,
                  seed: int) -> List[str]:
    """The ``--cfg-options`` of one stage."""
    base = load_config(stage)
    options = [f'randomness.seed={seed}'] + size_options(stage, args)
    if args.smoke:
        options.append(
            f'{real_dataset_key(base)}.indices={SMOKE_TRAIN_IMAGES}')
    if uses_cgan(base):
        bank_seed = args.seeds[0] if stage.shared_bank else seed
        options.append(f'custom_hooks.0.seed={bank_seed}')
        if stage.shared_bank:
            options.append('train_dataloader.dataset.bank_dir=' +
                           osp.join(root, 'banks', stage.name))
        if stage.shared_bank:
            options.append('custom_hooks.0.density_ratio_cache=' +
                           osp.join(root, 'banks', 'density_ratio'))
        if stage.tool == 'build_bank' or args.quick:
            # the cGAN stage's own bank is only a look at the samples, so
            # it skips cDR-RS (the students' stages fit it); --quick skips
            # it everywhere
            options.append('custom_hooks.0.subsample=None')
        if args.quick:
            hook = base.custom_hooks[0]
            iters = max(1, int(round(hook.gan_iters * QUICK_GAN_ITERS)))
            options += [
                f'custom_hooks.0.gan_iters={iters}',
                'custom_hooks.0.gan_checkpoint_interval='
                f'{min(iters, hook.gan_checkpoint_interval)}'
            ]
        if args.smoke:
            options += SMOKE_CGAN_OPTIONS
            hook = base.custom_hooks[0]
            if hook.get('subsample') and stage.tool != 'build_bank':
                # on a few images a density-ratio net learns nothing (and
                # may reject every sample); tests/test_synthesis checks it
                options.append('custom_hooks.0.subsample=None')
            if hook.get('gan_dataset'):
                options.append('custom_hooks.0.gan_dataset.indices='
                               f'{SMOKE_GAN_IMAGES}')
            if hook.gan.type == 'RealImagePool':
                options += [
                    f'custom_hooks.0.gan.dataset.indices={SMOKE_GAN_IMAGES}',
                    f'custom_hooks.0.gan.exclude_first={SMOKE_TRAIN_IMAGES}'
                ]
    if args.eval_split != 'test':
        options.append(f'val_dataloader.dataset.split={args.eval_split}')
    if stage.task == 'rotation' and stage.tool == 'train':
        errors = osp.join(stage_dir(root, stage, seed), 'errors.json')
        options.append(f'val_evaluator.errors_file={errors}')
    if stage.teacher:
        options.append('model.teacher_ckpt=' + dep_checkpoint(
            stage.teacher, root, args, seed))
    if stage.init_from:
        options.append('load_from=' +
                       dep_checkpoint(stage.init_from, root, args, seed))
    if stage.cgan_from:
        source = STAGES_BY_NAME[stage.cgan_from]
        options.append('custom_hooks.0.generator_ckpt=' + cgan_weights(
            stage_dir(root, source, seed)))
    for option in args.cfg_options:
        name, _, option = option.partition(':')
        if name == stage.name:
            options.append(option)
    return options


def dep_checkpoint(name: str, root: str, args: argparse.Namespace,
                   seed: int) -> str:
    """The final checkpoint of the stage ``name`` (of this seed)."""
    dep = STAGES_BY_NAME[name]
    cfg = load_config(dep, size_options(dep, args))
    return final_checkpoint(cfg, stage_dir(root, dep, seed))


def describe_training_data(cfg: Config) -> str:
    """The table's "training data" cell, read from the config."""
    dataset = cfg.train_dataloader.dataset
    fake, times = None, 1
    while dataset.get('type') in ('SyntheticMixDataset', 'RepeatDataset'):
        if dataset.type == 'SyntheticMixDataset':
            fake = as_int(dataset.num_fake)
        else:
            times = as_int(dataset.times)
        dataset = dataset.dataset
    indices = as_int(dataset.get('indices'))
    real = ('all 55,000 training images'
            if indices is None else f'first {indices:,} training images')
    if times > 1:
        real += f' x {times}'
    return real if fake is None else f'{real} + {fake:,} fake'


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
    """Run one stage's tool in a fresh interpreter.

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
        osp.join(REPO_ROOT, 'tools', f'{stage.tool}.py'),
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
                log.flush()
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


def bank_dir_of(cfg: Config, work_dir: str) -> str:
    """Where the stage's bank is: its ``bank_dir``, or the work dir's."""
    bank_dir = cfg.train_dataloader.dataset.get('bank_dir')
    return bank_dir or osp.join(work_dir, 'synthetic_bank')


def stage_done_marker(stage: Stage, cfg: Config, work_dir: str) -> str:
    """The file whose presence says the stage's run completed."""
    if stage.tool == 'build_bank':
        return cgan_weights(work_dir)
    return final_checkpoint(cfg, work_dir)


def run_stage(stage: Stage, root: str, args: argparse.Namespace, seed: int,
              force: bool) -> Dict:
    """Run one stage unless it is already done; its record."""
    work_dir = stage_dir(root, stage, seed)
    options = stage_options(stage, root, args, seed)
    cfg = load_config(stage, options)
    marker = stage_done_marker(stage, cfg, work_dir)
    key = METRIC_KEYS[stage.task]
    record_path = osp.join(work_dir, 'demo_stage.json')
    record = read_json(record_path) or {}
    # A stage trained from another config or with other options (seed,
    # split, smoke) is not done.
    config_hash = hashlib.sha256(cfg.pretty_text.encode()).hexdigest()
    done = (not force and osp.isfile(marker)
            and record.get('options') == options
            and record.get('config_sha256') == config_hash
            and (stage.tool != 'train'
                 or read_metric(work_dir, key) is not None))
    tag = stage.name if stage.shared else f'{stage.name} (seed {seed})'
    if done:
        print(f'== {tag}: already done ({marker}), skipped', flush=True)
    else:
        # A clean folder: no stale checkpoint or log of an earlier run can
        # be taken for this one's.
        shutil.rmtree(work_dir, ignore_errors=True)
        print(f'== {tag}: {stage.tool} {stage.config} '
              f'({describe_training_data(cfg)}) in {work_dir}', flush=True)
        start = time.time()
        cpu_time = run_training(stage, work_dir, options)
        # On a shared machine wall time depends on the others' load; the
        # CPU time says what the stage cost.
        record = dict(
            wall_time_s=time.time() - start,
            cpu_time_s=cpu_time,
            options=options,
            config_sha256=config_hash)
        with open(record_path + '.tmp', 'w') as f:
            json.dump(record, f, indent=2)
        os.replace(record_path + '.tmp', record_path)
    if not osp.isfile(marker):
        sys.exit(f'Stage {tag} finished without {marker}')
    value = None
    if stage.tool == 'train':
        value = read_metric(work_dir, key)
        if value is None:
            sys.exit(f'Stage {tag} finished without a {key} in its '
                     'scalars.json')
        print(f'== {tag}: {key} {value:.2f}, '
              f'{format_seconds(record.get("wall_time_s"))}', flush=True)
    return dict(
        stage=stage.name,
        task=stage.task,
        row=stage.row,
        model=stage.model,
        data=describe_training_data(cfg),
        value=value,
        wall_time=record.get('wall_time_s'),
        cpu_time=record.get('cpu_time_s'),
        gan_quality=read_json(osp.join(work_dir, 'cgan', 'quality.json')),
        bank=read_json(osp.join(bank_dir_of(cfg, work_dir), 'meta.json')),
        ran=not done)


def run_all(root: str, args: argparse.Namespace) -> Dict[int, List[Dict]]:
    """Every needed stage of every seed; each seed's records, in order.

    Shared stages run once (with the first seed); up to ``args.jobs``
    stages train at once, each as soon as the stages it needs are done.
    """
    os.makedirs(root, exist_ok=True)
    stages = needed_stages(args.stages, args.tasks)
    first = args.seeds[0]
    todo = [(stage, first if stage.shared else seed) for seed in args.seeds
            for stage in stages if not (stage.shared and seed != first)]
    # the shared stages (teachers, cGANs) first: everything waits on them
    todo.sort(key=lambda item: not item[0].shared)
    done: Dict[Tuple[str, int], Dict] = {}

    def key(name: str, seed: int) -> Tuple[str, int]:
        return (name, first if STAGES_BY_NAME[name].shared else seed)

    running: Dict[Future, Tuple[Stage, int]] = {}
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        while todo or running:
            for stage, seed in list(todo):
                deps = [key(dep, seed) for dep in stage.deps]
                # the first seed builds a shared bank, the others wait
                waits = deps + ([(stage.name, first)]
                                if stage.shared_bank and seed != first else
                                []) + ([key(stage.after, seed)]
                                       if stage.after else [])
                if len(running) >= args.jobs or any(d not in done
                                                    for d in waits):
                    continue
                # A student of a retrained teacher or cGAN would be stale.
                force = args.force or any(done[d]['ran'] for d in deps)
                running[pool.submit(run_stage, stage, root, args, seed,
                                    force)] = (stage, seed)
                todo.remove((stage, seed))
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                stage, seed = running.pop(future)
                try:
                    done[(stage.name, seed)] = future.result()
                except BaseException:
                    # one stage failed: stop the others, then report
                    stop_all_training()
                    raise
    runs = {
        seed: [done[key(stage.name, seed)] for stage in stages]
        for seed in args.seeds
    }
    plot_errors_against_angle(
        osp.join(root, f'seed_{first}'),
        [row for row in runs[first] if row['task'] == 'rotation'])
    return runs


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
    """Write ``content`` as JSON atomically."""
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    with open(path + '.tmp', 'w') as f:
        json.dump(content, f, indent=2)
        f.write('\n')
    os.replace(path + '.tmp', path)


def main(argv: Optional[List[str]] = None) -> None:
    """Run the stages for every seed, then print and write the results."""
    args = parse_args(argv)
    root = args.work_dir or (SMOKE_WORK_DIR if args.smoke else
                             QUICK_WORK_DIR if args.quick else
                             DEFAULT_WORK_DIR)
    root = osp.abspath(osp.join(REPO_ROOT, root))
    results_dir = osp.abspath(
        osp.join(REPO_ROOT, args.results_dir or osp.join(root, 'results')))
    start = time.time()
    runs = run_all(root, args)
    total = time.time() - start

    tables = results_tables(runs, args)
    title = 'cGAN-KD on Fashion-MNIST' + (
        ' (SMOKE: numbers mean nothing)' if args.smoke else
        f' (--quick: schedules at {QUICK_SCHEDULE:.0%}, cGANs at '
        f'{QUICK_GAN_ITERS:.0%}, no cDR-RS)' if args.quick else '')
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
    with open(results_path + '.tmp', 'w') as f:
        f.write(report)
    os.replace(results_path + '.tmp', results_path)
    for task in args.tasks:
        if any(r['task'] == task for r in runs[args.seeds[0]]):
            write_json(osp.join(results_dir, f'{task}.json'),
                       task_results(runs, task, args))
    write_json(osp.join(root, 'results.json'),
               {str(seed): rows for seed, rows in runs.items()})
    print(f'\n{report}\nWritten to {results_path} and {results_dir}',
          flush=True)


if __name__ == '__main__':
    main()
