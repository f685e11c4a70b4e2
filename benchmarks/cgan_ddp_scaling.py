# Copyright (c) cgankd_plugin contributors.
"""cGAN training on 2 CPU ranks vs 1, both under MMEngine's Runner.

Usage::

    .venv/bin/python benchmarks/cgan_ddp_scaling.py [--small]
        [--repeats N] [--iters N] [--interval N] [--timeout S]
        [--retries N]

Trains the Fashion-MNIST demo's class-conditional DCGAN
(``configs/cgan/dcgan_1xb64_fashion_mnist.py``, the real images of
``data/fashion_mnist``) as a user would, in a fresh child process per
run:

* ``1 rank``: ``python tools/train.py CONFIG`` (no launcher, so no DDP
  wrapper: the single-process training the 2 ranks must beat);
* ``2 ranks``: ``bash tools/dist_train.sh CONFIG 2`` (torchrun, gloo,
  each network in its own DDP wrapper);
* the control, ``2 x 1 rank apart``: two ``tools/train.py`` runs started
  together, no DDP: what two processes get from the machine's cores
  without any communication (on a 2-core VM they share its memory
  bandwidth and caches, and the OS, the logging and the loaders share
  the cores with them). ``DDP / the control`` is the cost of DDP itself.

Each child gets ``OMP_NUM_THREADS=1`` and ``MKL_NUM_THREADS=1`` (one torch
thread a rank), a free master port and its own ``--work-dir`` in a
temporary directory. Both keep the config's batch of 64 per rank, so the
2 ranks process twice the images an iteration. ``--cfg-options`` shrink
the run: ``--iters`` iterations, data loaded in the rank's own process
(``num_workers=0``: worker processes would take the very cores being
measured), a log line (and a ``scalars.json`` entry) every
``--interval`` iterations, no checkpoint. The sides run interleaved
(1, 2, 2, 1, ...) over ``--repeats`` rounds; medians are reported.

The seconds come from the Runner's own timing, not from the wall clock:
``IterTimerHook``'s per-iteration ``time`` (from one iteration's end to
the next, data loading included), as rank 0 writes it to
``<work_dir>/<timestamp>/vis_data/scalars.json``. ``log_processor.
window_size`` is set to the log interval, so each entry is the mean over
exactly the iterations since the previous one. Why not the wall clock:
the child's wall time includes start-up (imports, reading the 55,000
images, the process group, DDP's first broadcast: ~10 s for 1 rank, ~20 s
for 2 here), which is not training throughput and differs between the
sides; and the log
lines' timestamps have a resolution of one second, too coarse for
intervals of a few seconds. The first logged interval is skipped as
warm-up (allocator, first DDP buckets). With DDP every iteration ends in
the gradients' all-reduce, so rank 0's pace is the group's.

    images/s = world_size * 64 * iterations / seconds

Target: images/s of 2 ranks / 1 rank >= 1.7. The children's wall time is
printed too, for information. A child that exits with an error (on a
shared machine, e.g. its master port taken meanwhile) has the start of
its traceback printed and is run again, at most ``--retries`` times.

``--cfg-options`` are added to every child's (e.g. DDP's
``model_wrapper_cfg.bucket_cap_mb``).

``--small``: 60 iterations logged every 20, 2 repeats (6 runs, about 2
minutes on 2 cores): checks the script, too short to judge the target.
The default (300 iterations every 50, 4 repeats: 12 runs) takes about 8
minutes on 2 cores, start-up included (the first version, without the
control, took 6).
"""
import argparse
import glob
import json
import os
import os.path as osp
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Tuple

import _bench_utils as bu

CONFIG = osp.join('configs', 'cgan', 'dcgan_1xb64_fashion_mnist.py')
BATCH = 64  # the config's batch per rank, left as it is
TARGET = 1.7
# (world size, independent copies run together): one rank; two ranks
# under DDP; and the control, two one-rank runs side by side, which
# shows what two processes get from these two cores without DDP
SIDES = ((1, 1), (2, 1), (1, 2))
# launch variables a parent run could leak into the children
DIST_VARS = ('RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'LOCAL_WORLD_SIZE',
             'MASTER_ADDR', 'MASTER_PORT', 'PORT')


class ChildFailed(RuntimeError):
    """A training child exited with an error."""


def _free_port() -> int:
    """A TCP port nobody listens on now, for torchrun's rendezvous."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


# --cfg-options given to every child (main() sets them)
EXTRA_OPTIONS: List[str] = []


def _child_env() -> Dict[str, str]:
    """The parent's environment with one thread and the venv's torchrun."""
    env = {k: v for k, v in os.environ.items() if k not in DIST_VARS}
    env['OMP_NUM_THREADS'] = '1'
    env['MKL_NUM_THREADS'] = '1'
    env['PORT'] = str(_free_port())  # read by tools/dist_train.sh
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env.get(
        'PATH', '')
    return env


def _command(world_size: int, work_dir: str, iters: int,
             interval: int) -> List[str]:
    options = [
        f'train_cfg.max_iters={iters}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        f'default_hooks.logger.interval={interval}',
        f'log_processor.window_size={interval}',
        f'default_hooks.checkpoint.interval={10 * iters}',
        'default_hooks.checkpoint.save_last=False',
        *EXTRA_OPTIONS,
    ]
    tail = ['--work-dir', work_dir, '--cfg-options', *options]
    if world_size == 1:
        return [sys.executable, osp.join('tools', 'train.py'), CONFIG, *tail]
    return ['bash', osp.join('tools', 'dist_train.sh'), CONFIG,
            str(world_size), *tail]


def _iteration_times(work_dir: str, iters: int,
                     interval: int) -> List[float]:
    """The logged mean seconds an iteration, warm-up interval left out."""
    paths = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    if len(paths) != 1:
        raise RuntimeError(f'expected one scalars.json under {work_dir}, '
                           f'found {len(paths)}')
    entries = []
    with open(paths[0]) as f:
        for line in f:
            if line.strip():
                entry = json.loads(line)
                if 'time' in entry and 'iter' in entry:
                    entries.append(entry)
    logged = [e['iter'] for e in entries]
    expected = list(range(interval, iters + 1, interval))
    if logged != expected:
        raise RuntimeError(f'{paths[0]}: logged iterations {logged}, '
                           f'expected {expected}')
    return [float(e['time']) for e in entries[1:]]


def _report_failure(log_path: str) -> None:
    """Print a failed child's first traceback and the end of its log."""
    with open(log_path) as log:
        lines = log.readlines()
    # the first traceback (a rank's own), then torchrun's summary
    first = next((i for i, line in enumerate(lines)
                  if line.startswith('Traceback')), max(0, len(lines) - 40))
    head = lines[first:first + 40]
    rest = max(first + len(head), len(lines) - 10)
    print(''.join(head + ['...\n'] * (rest > first + len(head)) +
                  lines[rest:]), end='')


def run_once(side: Tuple[int, int], root: str, name: str, iters: int,
             interval: int, timeout: float) -> Dict[str, float]:
    """Train once (``copies`` children at a time); images/s, s/it, wall.

    Args:
        side (tuple): ``(world_size, copies)``: ``copies`` independent
            trainings of ``world_size`` ranks each, started together.
    """
    world_size, copies = side
    work_dirs = [osp.join(root, f'{name}_c{c}') for c in range(copies)]
    log_paths = [f'{work_dir}.log' for work_dir in work_dirs]
    start = time.perf_counter()
    procs = []
    try:
        for work_dir, log_path in zip(work_dirs, log_paths):
            os.makedirs(work_dir)
            with open(log_path, 'w') as log:
                # a session of its own: on a timeout (or ^C) the whole
                # group goes, torchrun's ranks included
                procs.append(subprocess.Popen(
                    _command(world_size, work_dir, iters, interval),
                    cwd=bu.REPO_ROOT, env=_child_env(), stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.perf_counter() + timeout
        codes = [proc.wait(timeout=max(1.0, deadline - time.perf_counter()))
                 for proc in procs]
    except BaseException:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        raise
    wall = time.perf_counter() - start
    for code, log_path in zip(codes, log_paths):
        if code != 0:
            _report_failure(log_path)
            raise ChildFailed(f'{_label(side)} exited with {code}; log '
                              'above')
    images_per_s, s_per_iter = 0.0, []
    for work_dir in work_dirs:
        times = _iteration_times(work_dir, iters, interval)
        seconds = interval * sum(times)
        measured = interval * len(times)
        images_per_s += world_size * BATCH * measured / seconds
        s_per_iter.append(seconds / measured)
        shutil.rmtree(work_dir)  # the log file stays until the end
    return dict(images_per_s=images_per_s,
                s_per_iter=bu.median(s_per_iter), wall=wall)


def run_retrying(side: Tuple[int, int], root: str, name: str, iters: int,
                 interval: int, timeout: float,
                 retries: int) -> Dict[str, float]:
    """:func:`run_once`, again after a failed child, up to ``retries``."""
    for attempt in range(retries + 1):
        try:
            return run_once(side, root, f'{name}_a{attempt}', iters,
                            interval, timeout)
        except ChildFailed as error:
            if attempt == retries:
                raise
            print(f'  {error}; running it again')
    raise AssertionError('unreachable')


def _label(side: Tuple[int, int]) -> str:
    world_size, copies = side
    if copies > 1:
        return f'{copies} x 1 rank apart'
    return f'{world_size} rank{"s" if world_size > 1 else ""} x 1 thread'


def _verdict(ratio: float, target: float) -> str:
    return (f'target >= {target:.2f}: '
            f'{"MET" if ratio >= target else "NOT MET"}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--small', action='store_true',
                        help='a quick check: 60 iterations, 2 repeats')
    parser.add_argument('--repeats', type=int, default=None)
    parser.add_argument('--iters', type=int, default=None,
                        help='iterations a run, the warm-up included')
    parser.add_argument('--interval', type=int, default=None,
                        help='iterations a logged (and measured) interval')
    parser.add_argument('--timeout', type=float, default=900,
                        help='seconds a child run may take')
    parser.add_argument('--retries', type=int, default=1,
                        help='times a failed child is run again')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='more --cfg-options for every side (e.g. '
                        'model_wrapper_cfg.bucket_cap_mb=0.05)')
    args = parser.parse_args()
    EXTRA_OPTIONS.extend(args.cfg_options)
    repeats = args.repeats or (2 if args.small else 4)
    iters = args.iters or (60 if args.small else 300)
    interval = args.interval or (20 if args.small else 50)
    if iters % interval or iters < 2 * interval:
        parser.error('--iters must be a multiple of --interval, and at '
                     'least two intervals (the first is warm-up)')
    print(bu.host_summary())
    print(f'children: OMP_NUM_THREADS=1 MKL_NUM_THREADS=1, batch {BATCH} '
          f'a rank, {iters} iterations (first {interval} warm-up), '
          f'{repeats} repeats, more options: {EXTRA_OPTIONS or "none"}')
    print(f'load before: {bu.load_average()}')

    results = {w: [] for w in SIDES}
    root = tempfile.mkdtemp(prefix='cgan_ddp_scaling_')
    try:
        for rep in range(repeats):
            order = SIDES if rep % 2 == 0 else SIDES[::-1]
            for side in order:
                r = run_retrying(side, root,
                                 f'r{rep}_w{side[0]}x{side[1]}',
                                 iters, interval, args.timeout,
                                 args.retries)
                results[side].append(r)
                print(f'  repeat {rep}: {_label(side)}: '
                      f'{r["images_per_s"]:.1f} images/s '
                      f'({r["s_per_iter"]:.4f} s/it, wall '
                      f'{r["wall"]:.1f} s), load {bu.load_average()}')
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def values(side, key):
        return [r[key] for r in results[side]]

    bu.print_table([
        dict(side=_label(w),
             images_per_s=(f'{bu.median(values(w, "images_per_s")):.1f} '
                           f'[{min(values(w, "images_per_s")):.1f}..'
                           f'{max(values(w, "images_per_s")):.1f}]'),
             seconds_per_iter=bu.spread(values(w, 's_per_iter')),
             wall_s=f'{bu.median(values(w, "wall")):.1f}')
        for w in SIDES
    ])
    one, ddp, apart = (bu.median(values(side, 'images_per_s'))
                       for side in SIDES)
    print(f'load after: {bu.load_average()}')
    print(f'control: 2 one-rank runs side by side / 1 rank = '
          f'{apart / one:.3f} (what 2 processes get from these cores)')
    print(f'DDP / the control = {ddp / apart:.3f} (the cost of DDP itself)')
    print(f'RATIO images/s 2 ranks / 1 rank = {ddp / one:.3f} '
          f'({_verdict(ddp / one, TARGET)})')


if __name__ == '__main__':
    main()
