# Copyright (c) cgankd_plugin contributors.
"""Runs the stages: each in a fresh interpreter, as many at once as asked,
each as soon as the stages it needs are done."""
import argparse
import hashlib
import os
import os.path as osp
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import (FIRST_COMPLETED, Future, ThreadPoolExecutor,
                                wait)
from typing import Dict, List, Optional, Tuple

from cgankd_plugin.utils.atomic_io import atomic_write_json, read_json
from .options import describe_training_data, load_config, stage_options
from .outputs import (bank_meta, cgan_quality, cgan_weights,
                      final_checkpoint, read_metric)
from .report import format_seconds, plot_errors_against_angle
from .stages import (METRIC_KEYS, REPO_ROOT, STAGES_BY_NAME, Stage,
                     needed_stages, stage_dir)

# The training processes running now, to stop when another fails.
_RUNNING: set = set()

_RUNNING_LOCK = threading.Lock()

# Lines of the training log echoed to the console as progress.
PROGRESS_MARKERS = ('Iter(train)', 'Epoch(train)', 'Epoch(val)',
                    'Iter(val)', 'Saving checkpoint', 'cGAN:', 'bank:',
                    'CGANHook:')


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


def stage_done_marker(stage: Stage, work_dir: str) -> Optional[str]:
    """The file whose presence says the stage's run completed (None: it
    left none)."""
    if stage.tool == 'build_bank':
        weights = cgan_weights(work_dir)
        return weights if osp.isfile(weights) else None
    return final_checkpoint(work_dir)


def run_stage(stage: Stage, root: str, args: argparse.Namespace, seed: int,
              force: bool) -> Dict:
    """Run one stage unless it is already done; its record."""
    work_dir = stage_dir(root, stage, seed)
    options = stage_options(stage, root, args, seed)
    cfg = load_config(stage, options)
    key = METRIC_KEYS[stage.task]
    record_path = osp.join(work_dir, 'demo_stage.json')
    record = read_json(record_path) or {}
    # A stage trained from another config or with other options (seed,
    # split, smoke) is not done.
    config_hash = hashlib.sha256(cfg.pretty_text.encode()).hexdigest()
    # (a run leaves its record when it completes, in a folder cleaned
    # before it started)
    marker = stage_done_marker(stage, work_dir)
    done = (not force and marker is not None
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
        atomic_write_json(record_path, record)
        marker = stage_done_marker(stage, work_dir)
    if marker is None:
        sys.exit(f'Stage {tag} finished without a checkpoint in {work_dir}')
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
        gan_quality=cgan_quality(work_dir),
        bank=bank_meta(cfg, work_dir),
        ran=not done)


def launch_order(todo: List[Tuple[Stage, int]],
                 first: int) -> List[Tuple[Stage, int]]:
    """The stages most others wait for first (teachers, then students and
    cGANs), so that the end of the run is not one stage after another.

    Args:
        todo (list[tuple[Stage, int]]): The planned (stage, seed) pairs.
        first (int): The first seed (the shared stages run with it).

    Returns:
        list[tuple[Stage, int]]: The pairs, by how many planned stages
        wait for each, directly or not (stable among equals).
    """

    def key(name: str, seed: int) -> Tuple[str, int]:
        return (name, first if STAGES_BY_NAME[name].shared else seed)

    def dependents(item: Tuple[Stage, int]) -> int:
        below, frontier = set(), {key(item[0].name, item[1])}
        while frontier:
            frontier = {(s.name, seed) for s, seed in todo
                        if (s.name, seed) not in below and any(
                            key(d, seed) in frontier for d in s.deps)}
            below |= frontier
        return len(below)

    waiting = [dependents(item) for item in todo]
    order = sorted(range(len(todo)), key=lambda i: -waiting[i])
    return [todo[i] for i in order]


def run_all(root: str, args: argparse.Namespace) -> Dict[int, List[Dict]]:
    """Every needed stage of every seed; each seed's records, in order.

    Shared stages run once (with the first seed); up to ``args.jobs``
    stages train at once, each as soon as the stages it needs are done.
    """
    os.makedirs(root, exist_ok=True)
    stages = needed_stages(args.stages, args.tasks)
    first = args.seeds[0]
    todo = launch_order(
        [(stage, first if stage.shared else seed) for seed in args.seeds
         for stage in stages if not (stage.shared and seed != first)], first)
    planned = {(stage.name, seed) for stage, seed in todo}
    done: Dict[Tuple[str, int], Dict] = {}

    def key(name: str, seed: int) -> Tuple[str, int]:
        return (name, first if STAGES_BY_NAME[name].shared else seed)

    def waits_for(stage: Stage, seed: int) -> List[Tuple[str, int]]:
        waits = [key(dep, seed) for dep in stage.deps]
        if stage.shared_bank and seed != first:
            # the first seed builds a shared bank, the others wait
            waits.append((stage.name, first))
        if stage.after and key(stage.after, seed) in planned:
            waits.append(key(stage.after, seed))
        return waits

    running: Dict[Future, Tuple[Stage, int]] = {}
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        while todo or running:
            for stage, seed in list(todo):
                deps = [key(dep, seed) for dep in stage.deps]
                if len(running) >= args.jobs or any(
                        d not in done for d in waits_for(stage, seed)):
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
