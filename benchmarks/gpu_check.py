# Copyright (c) cgankd_plugin contributors.
"""A GPU check: the CIFAR-100 recipe, shrunk in length, stage by stage.

Usage::

    .venv/bin/python benchmarks/gpu_check.py [--official PATH]
        [--out FILE] [--work-dir DIR] [--stages NAME,...] [--verbose]
    .venv/bin/python benchmarks/gpu_check.py --device cpu --tiny

One command on one GPU, within 8 minutes on an H100. It writes a
synthetic CIFAR-100 in the official pickle layout
(``<work-dir>/data/cifar100/cifar-100-python/{train,test,meta}``, 50,000
and 10,000 images of noise around a colour per class, by
``tests/cifar_files.py``), then runs the stages of the CIFAR-100 recipe
at their configured widths and batch sizes, but for a few iterations
each:

* ``cgan`` / ``cgan_amp`` (a): ``configs/cgan/biggan_1xb512_cifar100.py``
  (width 64, batch 512, 4 D steps per G step, its dataloader with 4
  workers) trained by ``tools/train.py``, without and with AMP: each
  network's optim wrapper becomes ``AmpOptimWrapper(dtype='bfloat16')``
  through ``--cfg-options``; whether D's forward ran under autocast (and
  in which dtype) is recorded. A Runner iteration is one D update.
* ``official`` (b): ``benchmarks/official_cgan_step.py --device cuda``
  with the recipe's width, batch and D steps: one step of ours and of the
  official code (``UBCDingXin/cGAN-KD``) on this GPU, and their ratio.
  Only with ``--official PATH`` (a checkout: the device cannot download).
* ``bank`` (c, d): ``tools/build_bank.py`` on
  ``configs/cgankd/cgankd_resnet32x4_resnet8x4_1xb128_cifar100.py`` with
  ``num_fake`` 10,000 (the recipe's 100,000 / 10), the configured burn-in
  (500 a class) and batch (500), cDR-RS for 2 epochs, the generator of
  (a) and a resnet32x4 teacher of random weights (a checkpoint written
  here). (c) is the cDR-RS fit inside the build (the builder's
  ``fit_subsampler`` timed by wrapping it; the MLP's own epochs by
  wrapping ``fit_density_ratio`` where the builder calls it); (d) is the
  rest of the build, from the bank's ``meta.json``. A random teacher's
  features tell fakes from reals, so the fitted ratios would reject
  nearly every candidate: the ratios are computed, then taken as 1.
* ``crd`` (e): ``configs/distill/`` +
  ``crd_neck_resnet32x4_resnet8x4_1xb64_cifar100.py`` (batch 64, its 2
  loader workers, nce_k 16384) by ``tools/train.py``, as an
  iteration-based loop of 50 iterations (10 of warm-up), no validation.

Runner stages are timed by two hooks added to the tool's runner: the
clock starts after the warm-up iterations (every hook of the last one
done) and stops right after the last ``train_step``, with
``torch.cuda.synchronize()`` at both ends; MMEngine's ``data_time`` and
``time`` (``IterTimerHook``) of the timed iterations are averaged. The
peak GPU memory (``torch.cuda.max_memory_allocated``) is reset at the
start of each stage (of the cDR-RS fit inside (d), too). The tools run
in this process (their ``main()``); each stage's log goes to
``<work-dir>/logs/<stage>.log`` unless ``--verbose``. A stage that fails
prints its error and the next one runs; the exit status is 1 if any
failed. The table is also written as JSON to ``--out``.

``--device cpu --tiny`` runs the same stages at tiny widths (cGAN width
4, resnet8 teacher and student), 200 training images and a few
iterations, on the CPU: a check of the plumbing, not of speed (AMP is
skipped there: MMEngine's ``AmpOptimWrapper`` needs a GPU). Without it,
the script refuses to run where CUDA is absent.
"""
import argparse
import contextlib
import gc
import importlib.util
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import textwrap
import time
import traceback
import uuid
from typing import Callable, Dict, Iterator, List, Optional
from unittest import mock

import _bench_utils as bu  # noqa: I100 (adds the repo to sys.path)
import torch

CGAN_CONFIG = 'configs/cgan/biggan_1xb512_cifar100.py'
CGANKD_CONFIG = 'configs/cgankd/cgankd_resnet32x4_resnet8x4_1xb128_cifar100.py'
CRD_CONFIG = 'configs/distill/crd_neck_resnet32x4_resnet8x4_1xb64_cifar100.py'
OFFICIAL_SCRIPT = osp.join(bu.REPO_ROOT, 'benchmarks', 'official_cgan_step.py')
STAGES = ('cgan', 'cgan_amp', 'official', 'bank', 'crd')
BUDGET_SECONDS = 8 * 60
MIB = 2**20
LEGEND = (
    'it/s: Runner iterations (a: one D update each) or, for b, D updates '
    'per second, after warm-up; img/s: real images per second (c: real + '
    'fake images through the teacher, d: candidates through G and the '
    'teacher); data ms / %: median MMEngine data_time, and its share of '
    'the timed iterations\' time; peak MiB: torch.cuda.max_memory_allocated'
    ' in the stage; seconds: the stage\'s wall time (c: the fit\'s).')

# the recipe at its configured widths and batches, shrunk in length
FULL = dict(
    num_train=50000,
    num_test=10000,
    cgan=dict(warmup=8, iters=40, options={}),
    official_repeats=5,
    official_flops=True,
    bank=dict(num_fake=10000, epochs=2, options={}),
    crd=dict(warmup=10, iters=50, options={}),
    model_options={})
# the same plumbing at tiny widths, on the CPU
TINY = dict(
    num_train=200,
    num_test=100,
    cgan=dict(
        warmup=4,
        iters=8,
        options={
            'model.generator.base_channels': 4,
            'model.discriminator.base_channels': 4,
            'train_dataloader.batch_size': 8,
            'train_dataloader.num_workers': 0,
            'train_dataloader.persistent_workers': False,
        }),
    official_repeats=1,
    official_flops=False,
    bank=dict(
        num_fake=100,
        epochs=1,
        options={
            'custom_hooks.0.filter.burn_in': 4,
            'custom_hooks.0.subsample.burn_in': 4,
            'custom_hooks.0.bank_batch_size': 16,
            'custom_hooks.0.subsample.batch_size': 64,
            'custom_hooks.0.quality_samples': 16,
        }),
    crd=dict(
        warmup=2,
        iters=4,
        options={
            'train_dataloader.batch_size': 8,
            'train_dataloader.num_workers': 0,
            'train_dataloader.persistent_workers': False,
            'model.distiller.connectors.loss_crd_stu.dim_in': 64,
            'model.distiller.connectors.loss_crd_tea.dim_in': 64,
        }),
    # teacher and student: resnet8 (64-d features)
    model_options={
        'model.teacher.backbone.arch': 'resnet8',
        'model.teacher.head.in_channels': 64,
        'model.architecture.backbone.arch': 'resnet8',
        'model.architecture.head.in_channels': 64,
    })


# ------------------------------------------------------------- the device
def cuda_in_use() -> bool:
    return torch.cuda.is_available()


def synchronize() -> None:
    """Wait for the GPU's queued work (nothing on the CPU)."""
    if cuda_in_use():
        torch.cuda.synchronize()


def reset_peak() -> None:
    if cuda_in_use():
        torch.cuda.reset_peak_memory_stats()


def peak_mib() -> Optional[float]:
    """The peak GPU memory allocated since the last reset (None: CPU)."""
    return torch.cuda.max_memory_allocated() / MIB if cuda_in_use() else None


def allocated_mib() -> Optional[float]:
    return torch.cuda.memory_allocated() / MIB if cuda_in_use() else None


def free_memory() -> None:
    """Drop what a finished stage left (its runner, its loaders)."""
    gc.collect()
    if cuda_in_use():
        torch.cuda.empty_cache()


# ----------------------------------------------------------------- rows
class Row(dict):
    """One line of the table (and of the JSON): a measured stage.

    Args:
        name (str): e.g. ``'a cgan fp32'``.
        stage (str): The ``--stages`` name it belongs to.
    """

    def __init__(self, name: str, stage: str) -> None:
        super().__init__(
            name=name,
            stage=stage,
            status='running',
            it_per_s=None,
            images_per_s=None,
            data_time_ms=None,
            data_share=None,
            peak_memory_mib=None,
            seconds=None,
            note='',
            details={})


class StageClock:
    """Times a Runner's iterations after ``warmup`` of them.

    Two hooks share it (:class:`ClockMark`): the start mark runs last
    among the hooks of the last warm-up iteration, the end mark first
    among those of the last iteration; both synchronise with the GPU.
    MMEngine's ``data_time`` and ``time`` of every timed iteration are
    read from the message hub (``IterTimerHook`` puts them there).

    Args:
        warmup (int): Iterations left out of the timing.
    """

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.start = self.stop = None
        self.timed = 0
        self.data_time: List[float] = []
        self.iter_time: List[float] = []
        self.optim_wrappers: Dict[str, str] = {}
        self.autocast: Optional[str] = None

    def before_train(self, runner) -> None:
        """Record the optim wrappers and whether D runs under autocast."""
        from mmengine.model import is_model_wrapper
        wrapper = runner.optim_wrapper
        items = wrapper.items() if hasattr(wrapper, 'items') else [
            ('model', wrapper)
        ]
        for name, value in items:
            dtype = getattr(value, 'cast_dtype', None)
            self.optim_wrappers[name] = type(value).__name__ + (
                f'({dtype})' if dtype is not None else '')
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        disc = getattr(model, 'discriminator', None)
        if disc is not None:
            device = 'cuda' if cuda_in_use() else 'cpu'

            def record(module, args):
                if self.autocast is None:
                    on = torch.is_autocast_enabled(device)
                    self.autocast = str(torch.get_autocast_dtype(device)
                                        ).replace('torch.', '') if on \
                        else 'off'

            disc.register_forward_pre_hook(record)

    def mark(self, runner, end: bool) -> None:
        done = runner.iter + 1
        if end:
            if done == runner.max_iters:
                synchronize()
                self.stop = time.perf_counter()
            return
        if done == self.warmup:
            synchronize()
            self.start = time.perf_counter()
        elif done > self.warmup:
            hub = runner.message_hub
            self.timed += 1
            for key, values in (('train/data_time', self.data_time),
                                ('train/time', self.iter_time)):
                if key in hub.log_scalars:
                    values.append(float(hub.get_scalar(key).current()))

    def figures(self, row: Row, images_per_iter: int) -> None:
        """Fill ``row`` with the timed iterations' figures."""
        if self.start is None or self.stop is None or not self.timed:
            raise RuntimeError('the run ended before its timed iterations '
                               f'(warm-up {self.warmup})')
        seconds = self.stop - self.start
        row['it_per_s'] = self.timed / seconds
        row['images_per_s'] = self.timed * images_per_iter / seconds
        if self.data_time:
            data = bu.median(self.data_time)
            row['data_time_ms'] = 1000 * data
            if self.iter_time:
                row['data_share'] = sum(self.data_time) / sum(self.iter_time)
        row['details'].update(
            warmup_iters=self.warmup,
            timed_iters=self.timed,
            timed_seconds=seconds,
            images_per_iter=images_per_iter,
            data_time_median_s=(bu.median(self.data_time)
                                if self.data_time else None),
            iter_time_median_s=(bu.median(self.iter_time)
                                if self.iter_time else None),
            optim_wrappers=self.optim_wrappers,
            discriminator_autocast=self.autocast)


def clock_hooks(clock: StageClock) -> list:
    """The two hooks of ``clock``, with their priorities."""
    from mmengine.hooks import Hook

    class ClockMark(Hook):

        def __init__(self, end: bool) -> None:
            self.end = end

        def before_train(self, runner) -> None:
            if not self.end:
                clock.before_train(runner)

        def after_train_iter(self,
                             runner,
                             batch_idx: int,
                             data_batch=None,
                             outputs=None) -> None:
            clock.mark(runner, self.end)

    return [(ClockMark(end=False), 'LOWEST'), (ClockMark(end=True),
                                               'HIGHEST')]


# ---------------------------------------------------------------- tools
_TOOLS: Dict[str, object] = {}


def tool_module(tool: str):
    """``tools/<tool>.py`` imported as a module (once)."""
    if tool not in _TOOLS:
        path = osp.join(bu.REPO_ROOT, 'tools', tool + '.py')
        spec = importlib.util.spec_from_file_location(
            f'gpu_check_tools_{tool}', path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _TOOLS[tool] = module
    return _TOOLS[tool]


def cli_options(options: Dict[str, object]) -> List[str]:
    """``--cfg-options`` items of an options dict."""
    return [f'{key}={value}' for key, value in options.items()]


@contextlib.contextmanager
def replaced(owner, name: str, make: Callable) -> Iterator[bool]:
    """Replace ``owner.name`` by ``make(original)`` for the block.

    Yields:
        bool: Whether ``owner`` had the attribute (nothing is replaced
        otherwise).
    """
    if not hasattr(owner, name):
        yield False
        return
    own = name in vars(owner)
    original = getattr(owner, name)
    setattr(owner, name, make(original))
    try:
        yield True
    finally:
        if own:
            setattr(owner, name, original)
        else:
            delattr(owner, name)


def run_tool(tool: str,
             config: str,
             work_dir: str,
             options: Dict[str, object],
             clock: Optional[StageClock] = None) -> None:
    """``tools/<tool>.py CONFIG --work-dir DIR --cfg-options ...``.

    Its ``main()`` runs in this process (the GPU's peak memory is read
    here), with the clock's hooks added to the runner it builds. The
    Runner's logger, message hub, visualizer and random states are
    dropped afterwards, as for a nested run.
    """
    from cgankd_plugin.engine.cgan_training import outer_runner_state
    module = tool_module(tool)
    argv = [
        module.__file__,
        osp.join(bu.REPO_ROOT, config), '--work-dir', work_dir,
        '--cfg-options', *cli_options(
            dict(options, experiment_name=f'gpu_check_{uuid.uuid4().hex}'))
    ]

    def with_clock(build):

        def build_runner(cfg):
            runner = build(cfg)
            for hook, priority in (clock_hooks(clock) if clock else []):
                runner.register_hook(hook, priority)
            return runner

        return build_runner

    with outer_runner_state(), mock.patch.object(sys, 'argv', argv), \
            replaced(module, 'build_runner', with_clock):
        module.main()


# --------------------------------------------------------------- inputs
class Check:
    """The run's settings, its inputs and its rows.

    Args:
        args (argparse.Namespace): The command line.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.settings = TINY if args.tiny else FULL
        self.work = osp.abspath(args.work_dir)
        self.rows: List[Row] = []
        self.data_root = osp.join(self.work, 'data', 'cifar100')
        self._teacher_ckpt: Optional[str] = None
        self.generator_ckpt: Optional[str] = None
        self.generator_from = 'none'

    def folder(self, name: str) -> str:
        """A fresh ``<work-dir>/<name>`` (what a previous run left goes)."""
        path = osp.join(self.work, name)
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        return path

    def write_data(self) -> float:
        """The synthetic CIFAR-100 files; returns seconds."""
        sys.path.insert(0, osp.join(bu.REPO_ROOT, 'tests'))
        try:
            from cifar_files import write_cifar100
        finally:
            sys.path.pop(0)
        start = time.perf_counter()
        shutil.rmtree(self.data_root, ignore_errors=True)
        write_cifar100(self.data_root, self.settings['num_train'],
                       self.settings['num_test'])
        return time.perf_counter() - start

    def cgan_options(self) -> Dict[str, object]:
        """The cGAN recipe on the synthetic files (and tiny widths)."""
        return {
            'train_dataloader.dataset.data_root': self.data_root,
            'train_dataloader.dataset.check_md5': False,
            **self.settings['cgan']['options'],
        }

    def recipe(self):
        """The cGAN recipe as this run trains it."""
        from cgankd_plugin.engine.cgan_training import load_cgan_recipe
        return load_cgan_recipe(
            osp.join(bu.REPO_ROOT, CGAN_CONFIG), self.cgan_options())

    def teacher_ckpt(self) -> str:
        """A checkpoint of the config's teacher with random weights."""
        if self._teacher_ckpt is None:
            from mmengine.config import Config

            from cgankd_plugin.registry import MODELS
            cfg = Config.fromfile(osp.join(bu.REPO_ROOT, CGANKD_CONFIG))
            cfg.merge_from_dict(self.settings['model_options'])
            torch.manual_seed(0)
            teacher = MODELS.build(cfg.model.teacher)
            path = osp.join(self.folder('teacher'), 'teacher_random.pth')
            torch.save(dict(state_dict=teacher.state_dict()), path)
            self._teacher_ckpt = path
        return self._teacher_ckpt

    def bank_generator_ckpt(self) -> str:
        """The cGAN of (a), else the recipe's untrained cGAN, saved."""
        if self.generator_ckpt is None:
            from cgankd_plugin.engine.cgan_training import build_cgan
            path = osp.join(self.folder('generator'), 'cgan_untrained.pth')
            torch.save(dict(state_dict=build_cgan(self.recipe()).state_dict()),
                       path)
            self.generator_ckpt, self.generator_from = path, 'untrained'
        return self.generator_ckpt


# --------------------------------------------------------------- stages
def cgan_stage(check: Check, row: Row, amp: bool) -> None:
    """(a) The BigGAN recipe by ``tools/train.py``, fp32 or bf16 AMP."""
    from mmengine.runner import find_latest_checkpoint
    if amp and not cuda_in_use():
        row['status'] = 'skipped'
        row['note'] = "CPU: MMEngine's AmpOptimWrapper needs a GPU"
        return
    settings = check.settings['cgan']
    recipe = check.recipe()
    batch = recipe.train_dataloader.batch_size
    work = check.folder('cgan_bf16' if amp else 'cgan_fp32')
    options = dict(
        check.cgan_options(), **{
            'train_cfg.max_iters': settings['iters'],
            'default_hooks.logger.interval': max(1, settings['iters'] // 5),
        })
    if amp:
        for net in ('generator', 'discriminator'):
            options[f'optim_wrapper.{net}.type'] = 'AmpOptimWrapper'
            options[f'optim_wrapper.{net}.dtype'] = 'bfloat16'
    clock = StageClock(settings['warmup'])
    run_tool('train', CGAN_CONFIG, work, options, clock)
    clock.figures(row, batch)
    d_steps = recipe.model.get('discriminator_steps', 1)
    row['note'] = (f'width {recipe.model.generator.base_channels}, batch '
                   f'{batch}, {d_steps} D steps/G step; it = 1 D update; '
                   f'autocast in D: {clock.autocast}')
    row['details'].update(
        discriminator_steps=d_steps,
        cudnn_benchmark=recipe.get('env_cfg', {}).get('cudnn_benchmark'),
        num_workers=recipe.train_dataloader.get('num_workers'))
    ckpt = find_latest_checkpoint(work)
    if ckpt and (check.generator_from in ('none', 'untrained') or not amp):
        check.generator_ckpt = ckpt
        check.generator_from = 'bf16' if amp else 'fp32'


def official_stage(check: Check, ours: Row, theirs: Row) -> None:
    """(b) ``official_cgan_step.py`` on this device, at the recipe's
    width, batch and D steps."""
    args = check.args
    if not args.official:
        for row in (ours, theirs):
            row['status'] = 'skipped'
            row['note'] = ('no --official PATH (a checkout of '
                           'UBCDingXin/cGAN-KD; see docs/benchmarks.md)')
        return
    recipe = check.recipe()
    width = recipe.model.generator.base_channels
    batch = recipe.train_dataloader.batch_size
    d_steps = recipe.model.get('discriminator_steps', 1)
    out = osp.join(check.folder('official'), 'official_cgan_step.json')
    cmd = [
        sys.executable, OFFICIAL_SCRIPT, '--official', args.official,
        '--width',
        str(width), '--batch-size',
        str(batch), '--d-steps',
        str(d_steps), '--repeats',
        str(check.settings['official_repeats']), '--device', args.device,
        '--json', out
    ]
    if not check.settings['official_flops']:
        cmd.append('--no-flops')
    print('  ' + ' '.join(cmd[1:]))
    proc = subprocess.run(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
        cwd=bu.REPO_ROOT)
    print(proc.stdout, end='')  # into the stage's log
    if proc.returncode:
        raise RuntimeError(f'official_cgan_step.py exited with '
                           f'{proc.returncode}:\n{proc.stdout[-3000:]}')
    with open(out) as f:
        result = json.load(f)
    ratio = result['ratio_pairwise']
    for row, side in ((ours, 'ours'), (theirs, 'official')):
        step = bu.median(result['seconds_per_step'][side])
        row['it_per_s'] = d_steps / step
        row['images_per_s'] = d_steps * batch / step
        row['peak_memory_mib'] = result.get('peak_memory_mib')
        flops = (result.get('flops_per_step') or {}).get(side)
        row['details'].update(
            seconds_per_step=result['seconds_per_step'][side],
            flops_per_step=flops,
            tflops_per_s=flops / step / 1e12 if flops else None,
            ratio_ours_official=ratio)
        row['note'] = (f'{step:.3f} s/step ({d_steps} D + 1 G), median of '
                       f'{len(result["seconds_per_step"][side])}')
    theirs['note'] += f'; ours/official {ratio:.3f}'
    ours['note'] += '; peak memory: both sides, one process'


def bank_stage(check: Check, fit: Row, build: Row) -> None:
    """(c) and (d): ``tools/build_bank.py`` on the cGAN-KD config."""
    from cgankd_plugin.synthesis.builder import BaseBankBuilder, subsampling
    settings = check.settings['bank']
    teacher_ckpt = check.teacher_ckpt()
    generator_ckpt = check.bank_generator_ckpt()
    recipe_options = {
        f'custom_hooks.0.cgan_cfg_options.{k}': v
        for k, v in check.cgan_options().items()
    }
    options = {
        'train_dataloader.dataset.dataset.data_root': check.data_root,
        'train_dataloader.dataset.dataset.check_md5': False,
        'train_dataloader.dataset.num_fake': settings['num_fake'],
        'model.teacher_ckpt': teacher_ckpt,
        'custom_hooks.0.generator_ckpt': generator_ckpt,
        'custom_hooks.0.subsample.epochs': settings['epochs'],
        **recipe_options,
        **check.settings['model_options'],
        **settings['options'],
    }
    work = check.folder('bank')
    timing = dict(fit=None, mlp=0.0, mlp_calls=0, peak_before_fit=None)

    def timed_fit(original):

        def fit_subsampler(builder, *args, **kwargs):
            synchronize()
            timing['peak_before_fit'] = peak_mib()
            reset_peak()
            start = time.perf_counter()
            result = original(builder, *args, **kwargs)
            synchronize()
            timing['fit'] = time.perf_counter() - start
            timing['fit_peak'] = peak_mib()
            real = args[0] if args else kwargs.get('real')
            timing['num_real'] = None if real is None else len(real)
            timing['subsample'] = dict(getattr(builder, 'subsample', {}) or {})
            return result

        return fit_subsampler

    def timed_mlp(original):

        def fit_density_ratio(*args, **kwargs):
            synchronize()
            start = time.perf_counter()
            result = original(*args, **kwargs)
            synchronize()
            timing['mlp'] += time.perf_counter() - start
            timing['mlp_calls'] += 1
            # where the MLP was trained: on the device of its parameters
            params = getattr(result, 'parameters', None)
            if params is not None:
                timing['mlp_device'] = str(next(params()).device)
            return result

        return fit_density_ratio

    def ratios_of_one(original):

        def predict_density_ratio(*args, **kwargs):
            return torch.ones_like(original(*args, **kwargs))

        return predict_density_ratio

    with replaced(BaseBankBuilder, 'fit_subsampler', timed_fit) as has_fit, \
            replaced(subsampling, 'fit_density_ratio', timed_mlp), \
            replaced(subsampling, 'predict_density_ratio',
                     ratios_of_one) as has_predict:
        try:
            run_tool('build_bank', CGANKD_CONFIG, work, options)
        finally:
            fill_fit_row(fit, timing, has_fit)
    with open(osp.join(work, 'synthetic_bank', 'meta.json')) as f:
        meta = json.load(f)
    seconds = meta['build_seconds'] - (timing['fit'] or 0.0)
    candidates = meta.get('candidates')
    build['images_per_s'] = candidates / seconds if candidates else None
    peaks = [p for p in (timing['peak_before_fit'], peak_mib())
             if p is not None]
    build['peak_memory_mib'] = max(peaks) if peaks else None
    build['note'] = (f'img/s = candidates through G + teacher; '
                     f'{meta["num_samples"]} kept '
                     f'({meta["num_samples"] / seconds:.1f}/s), generator '
                     f'{check.generator_from}')
    build['details'].update(
        build_seconds_without_fit=seconds,
        num_fake=settings['num_fake'],
        candidates=candidates,
        over_generation=meta.get('over_generation'),
        cdrrs_acceptance=meta.get('cdrrs_acceptance'),
        filter_pass_rate=meta.get('filter_pass_rate'),
        accepted_per_s=meta['num_samples'] / seconds,
        generator=check.generator_from,
        cdr_rs_ratios_taken_as_one=has_predict)
    if not has_predict:
        build['note'] += '; ratios as fitted (no predict_density_ratio)'


def fill_fit_row(row: Row, timing: dict, has_fit: bool) -> None:
    """(c)'s figures, from the wrapped ``fit_subsampler``."""
    if not has_fit:
        raise RuntimeError('the bank builder has no fit_subsampler: the '
                           'cDR-RS fit cannot be timed (update bank_stage)')
    if timing['fit'] is None:
        raise RuntimeError('the build did not fit cDR-RS')
    row['status'] = 'ok'
    row['seconds'] = timing['fit']
    row['peak_memory_mib'] = timing['fit_peak']
    epochs = timing['subsample'].get('epochs')
    num_real = timing['num_real']
    num_fake = timing['subsample'].get('num_fake_train', num_real)
    device = timing.get('mlp_device', '?')
    details = dict(
        fit_seconds=timing['fit'],
        epochs=epochs,
        num_real=num_real,
        num_fake_train=num_fake,
        subsample=timing['subsample'],
        mlp_seconds=timing['mlp'] if timing['mlp_calls'] else None,
        mlp_device=device)
    if timing['mlp_calls'] and epochs and num_real:
        features = timing['fit'] - timing['mlp']
        # teacher features of the real images and of as many fakes
        row['images_per_s'] = (num_real + num_fake) / features
        details.update(
            feature_seconds=features,
            mlp_seconds_per_epoch=timing['mlp'] / epochs)
        row['note'] = (f'{epochs} epoch(s): features {features:.1f} s, MLP '
                       f'{timing["mlp"] / epochs:.2f} s/epoch on {device}; '
                       'img/s = real + fake images through the teacher')
    else:
        row['note'] = (f'{epochs} epoch(s), {timing["fit"]:.1f} s in all '
                       '(fit_density_ratio not seen: no split)')
    row['details'].update(details)


def crd_stage(check: Check, row: Row) -> None:
    """(e) CRD resnet32x4 -> resnet8x4 by ``tools/train.py``."""
    settings = check.settings['crd']
    iters = settings['iters']
    options = {
        'train_dataloader.dataset.dataset.data_root': check.data_root,
        'train_dataloader.dataset.dataset.check_md5': False,
        'model.teacher_ckpt': check.teacher_ckpt(),
        'train_cfg._delete_': True,
        'train_cfg.type': 'IterBasedTrainLoop',
        'train_cfg.max_iters': iters,
        'val_cfg': None,
        'val_dataloader': None,
        'val_evaluator': None,
        'default_hooks.checkpoint.by_epoch': False,
        'default_hooks.checkpoint.interval': 100 * iters,
        'default_hooks.logger.interval': max(1, iters // 5),
        **check.settings['model_options'],
        **settings['options'],
    }
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(bu.REPO_ROOT, CRD_CONFIG))
    cfg.merge_from_dict(options)
    batch = cfg.train_dataloader.batch_size
    clock = StageClock(settings['warmup'])
    run_tool('train', CRD_CONFIG, check.folder('crd'), options, clock)
    clock.figures(row, batch)
    row['note'] = (f'batch {batch}, {cfg.train_dataloader.num_workers} '
                   'loader workers; data ms = median MMEngine data_time')


# ------------------------------------------------------------------ run
@contextlib.contextmanager
def stage_log(check: Check, name: str) -> Iterator[str]:
    """The stage's output into ``<work-dir>/logs/<name>.log``."""
    os.makedirs(osp.join(check.work, 'logs'), exist_ok=True)
    path = osp.join(check.work, 'logs', f'{name}.log')
    if check.args.verbose:
        yield path
        return
    with open(path, 'w') as log, contextlib.redirect_stdout(log), \
            contextlib.redirect_stderr(log):
        yield path


def run_stage(check: Check, stage: str, rows: List[Row],
              body: Callable[[], None]) -> None:
    """Run one stage; its rows get its status, time and memory."""
    check.rows.extend(rows)
    print(f'[{stage}] {", ".join(r["name"] for r in rows)} ...')
    free_memory()
    before = allocated_mib()
    reset_peak()
    start = time.perf_counter()
    error = None
    with stage_log(check, stage) as log:
        try:
            body()
        except Exception:  # a failed stage is reported, the next runs
            error = traceback.format_exc()
        synchronize()
    seconds = time.perf_counter() - start
    peak = peak_mib()
    for row in rows:
        if row['status'] == 'running':
            row['status'] = 'failed' if error else 'ok'
            if row['peak_memory_mib'] is None:
                row['peak_memory_mib'] = peak
        if row['seconds'] is None:
            row['seconds'] = seconds
        row['details']['memory_held_at_start_mib'] = before
        if error and row['status'] == 'failed':
            row['error'] = error.strip().splitlines()[-1]
    if error:
        print(f'[{stage}] FAILED after {seconds:.1f} s (log: {log}):')
        print(error.rstrip())
    else:
        print(f'[{stage}] done in {seconds:.1f} s (log: {log})')
    free_memory()


def fmt(value, digits: int = 1) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


def print_table(rows: List[Row]) -> None:
    bu.print_table([
        dict(
            stage=r['name'],
            status=r['status'],
            **{
                'it/s': fmt(r['it_per_s'], 2),
                'img/s': fmt(r['images_per_s']),
                'data ms': fmt(r['data_time_ms']),
                'data %': fmt(100 * r['data_share']
                              if r['data_share'] is not None else None),
                'peak MiB': fmt(r['peak_memory_mib'], 0),
                'seconds': fmt(r['seconds']),
            },
            note=r['note'] or r.get('error', '')) for r in rows
    ])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--official',
        help='a checkout of UBCDingXin/cGAN-KD (e.g. .official/cGAN-KD) '
        'for stage b; skipped without it')
    parser.add_argument(
        '--out',
        default=osp.join('work_dirs', 'gpu_check', 'gpu_check.json'),
        help='where the JSON goes (default %(default)s)')
    parser.add_argument(
        '--work-dir',
        default=osp.join('work_dirs', 'gpu_check'),
        help='data, checkpoints and logs (default %(default)s; its stage '
        'folders are replaced)')
    parser.add_argument(
        '--stages',
        default=','.join(STAGES),
        help='comma-separated subset of ' + ', '.join(STAGES))
    parser.add_argument(
        '--device',
        choices=('cuda', 'cpu'),
        default='cuda',
        help='cpu only together with --tiny')
    parser.add_argument(
        '--tiny',
        action='store_true',
        help='tiny widths and lengths: a check of the plumbing')
    parser.add_argument(
        '--verbose',
        action='store_true',
        help='the stages\' logs on the console, not in files')
    args = parser.parse_args()
    stages = [s for s in args.stages.split(',') if s]
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        parser.error(f'--stages: unknown {unknown}; choose from {STAGES}')
    args.stages = stages
    if args.official:
        # the official step runs from the repository root
        args.official = osp.abspath(args.official)
    if args.device == 'cpu' and not args.tiny:
        parser.error('--device cpu runs only with --tiny (the full widths '
                     'take hours on a CPU)')
    return args


def main() -> None:
    args = parse_args()
    if args.device == 'cpu':
        # before CUDA starts: MMEngine's runners pick the GPU if any
        os.environ['CUDA_VISIBLE_DEVICES'] = ''
        # tiny tensors: more threads only contend on a shared machine
        torch.set_num_threads(1)
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit(
            'gpu_check: CUDA is not available here (torch '
            f'{torch.__version__}, torch.cuda.is_available() is False). '
            'This check runs on one GPU; for a CPU run of its plumbing only, '
            'add --device cpu --tiny.')
    import cgankd_plugin  # noqa: F401
    started = time.perf_counter()
    check = Check(args)
    device = (torch.cuda.get_device_name(0)
              if args.device == 'cuda' else 'cpu')
    print(f'gpu_check: {device}, torch {torch.__version__}, cuda '
          f'{torch.version.cuda}, {"tiny" if args.tiny else "full"} mode')
    print(bu.host_summary())
    print(f'work dir: {check.work}')
    seconds = check.write_data()
    print(f'synthetic CIFAR-100: {check.settings["num_train"]} train + '
          f'{check.settings["num_test"]} test images in {check.data_root} '
          f'({seconds:.1f} s)')

    plan = dict(
        cgan=([Row('a cgan fp32', 'cgan')],
              lambda rows: cgan_stage(check, rows[0], amp=False)),
        cgan_amp=([Row('a cgan bf16', 'cgan_amp')],
                  lambda rows: cgan_stage(check, rows[0], amp=True)),
        official=([
            Row('b step ours', 'official'),
            Row('b step official', 'official')
        ], lambda rows: official_stage(check, *rows)),
        bank=([Row('c cdr-rs fit', 'bank'),
               Row('d bank build', 'bank')],
              lambda rows: bank_stage(check, *rows)),
        crd=([Row('e crd student', 'crd')],
             lambda rows: crd_stage(check, rows[0])))
    for stage in STAGES:
        if stage in args.stages:
            rows, body = plan[stage]
            run_stage(check, stage, rows, lambda: body(rows))

    wall = time.perf_counter() - started
    print()
    print_table(check.rows)
    print(textwrap.fill(LEGEND, 79))
    failed = [r['name'] for r in check.rows if r['status'] == 'failed']
    budget = '' if args.tiny else (
        f' (budget {BUDGET_SECONDS} s on one H100: '
        f'{"within" if wall <= BUDGET_SECONDS else "OVER"})')
    print(f'wall time: {wall:.1f} s{budget}')
    report = dict(
        script='benchmarks/gpu_check.py',
        mode='tiny' if args.tiny else 'full',
        device=device,
        torch=torch.__version__,
        cuda=torch.version.cuda,
        cudnn_allow_tf32=torch.backends.cudnn.allow_tf32,
        matmul_allow_tf32=torch.backends.cuda.matmul.allow_tf32,
        host=bu.host_summary(),
        official=args.official,
        stages_run=args.stages,
        wall_seconds=wall,
        budget_seconds=BUDGET_SECONDS,
        rows=check.rows,
        failed=failed)
    out = osp.abspath(args.out)
    os.makedirs(osp.dirname(out), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(report, f, indent=1, default=str)
    print(f'JSON: {out}')
    if failed:
        print(f'FAILED: {", ".join(failed)}')
        sys.exit(1)


if __name__ == '__main__':
    main()
