# Copyright (c) cgankd_plugin contributors.
"""``python -m demo.fashion_mnist``: the command line and the report."""
import argparse
import os.path as osp
import time
from typing import List, Optional

from .options import QUICK_GAN_ITERS, QUICK_MIN_GAN_ITERS, QUICK_SCHEDULE
from .report import write_report
from .runner import run_all
from .stages import REPO_ROOT, STAGES_BY_NAME, TASKS

DEFAULT_WORK_DIR = osp.join('work_dirs', 'demo_fashion_mnist')

# Apart, so a smoke run never replaces the stages of a real one.
SMOKE_WORK_DIR = osp.join('work_dirs', 'demo_fashion_mnist_smoke')

QUICK_WORK_DIR = osp.join('work_dirs', 'demo_fashion_mnist_quick')


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
        # (argparse formats help strings: a percent sign is written %%)
        help=f'every schedule but the students\' alone at '
        f'{QUICK_SCHEDULE * 100:.0f} %% of its length, the cGANs at '
        f'{QUICK_GAN_ITERS * 100:.0f} %% of their iterations (at least '
        f'{QUICK_MIN_GAN_ITERS}), cDR-RS off: '
        'the experiment in at most half an hour (make demo)')
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

    write_report(runs, args, root, results_dir, total)
