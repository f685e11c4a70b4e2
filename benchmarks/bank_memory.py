# Copyright (c) cgankd_plugin contributors.
"""Peak RSS of reading a SyntheticMixDataset: 10k-image vs 1M-image bank.

Usage::

    .venv/bin/python benchmarks/bank_memory.py [--small] [--repeats N]
        [--reads N] [--tmpdir DIR] [--diagnose]

Two banks of random 3x32x32 uint8 images are written with ``BankWriter``
in a temporary directory (1M images is ~3.1 GB on disk; ``--small`` uses a
100k bank instead, ~0.3 GB; the free disk space is checked first and the
banks are deleted at the end). For each bank, a fresh subprocess builds
``SyntheticMixDataset(LocalCIFAR100 (1,000 real images), bank)`` with the
training pipeline (RandomCrop, RandomFlip, TeacherRelabel, PackInputs) and
reads ``--reads`` (20,000) random samples through it. The subprocesses run
interleaved (10k, 1M, 1M, 10k, ...), ``--repeats`` times each.

The bank is read as shipped: each sample with ``os.pread``
(``BankArray``). ``--diagnose`` also runs the large bank with its arrays
swapped for memory maps of the same files in the child process only (the
package is untouched): the read path before ``BankArray``, to show what
it costs.

Reported per case (medians): peak RSS (``ru_maxrss``) after the imports
and dataset construction and at the end, and at the end ``RssAnon`` (the
process's own memory) and ``RssFile`` (pages of mapped files, here the
bank when it is memory-mapped, and the shared libraries: shared page cache
the kernel can drop, but counted in RSS). Target: peak RSS of the 1M case
within 10% of the 10k case.
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import _bench_utils as bu  # noqa: I100 (adds the repo to sys.path)

TARGET = 1.10
NUM_REAL = 1000
NUM_CLASSES = 100
PIPELINE = [
    dict(type='mmpretrain.RandomCrop', crop_size=32, padding=4),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmrazor.TeacherRelabel'),
    dict(type='mmpretrain.PackInputs'),
]


def proc_status() -> dict:
    """VmHWM, VmRSS, RssAnon, RssFile of this process, in MiB."""
    out = {}
    with open('/proc/self/status') as f:
        for line in f:
            key = line.split(':', 1)[0]
            if key in ('VmHWM', 'VmRSS', 'RssAnon', 'RssFile', 'RssShmem'):
                out[key] = int(line.split()[1]) / 1024
    return out


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def patch_reader(variant: str, mix) -> None:
    """Select the bank's read path in this (child) process only.

    ``pread`` is the package as shipped (:class:`BankArray`); ``memmap``
    swaps the bank's arrays for memory maps of the same files, the read
    path before ``BankArray`` (diagnostic).
    """
    if variant == 'memmap':
        bank = mix.bank
        for name in ('images', 'cond_labels', 'teacher_labels'):
            setattr(bank, name, getattr(bank, name).memmap())
    elif variant != 'pread':
        raise ValueError(f'unknown variant {variant!r}')


def child(args) -> None:
    """Build the dataset, read random samples, print one JSON line."""
    import numpy as np

    import cgankd_plugin  # noqa: F401
    from cgankd_plugin.datasets import SyntheticMixDataset
    from cgankd_plugin.registry import DATASETS
    real = DATASETS.build(
        dict(
            type='LocalCIFAR100',
            data_root=args.cifar,
            split='train',
            check_md5=False,
            pipeline=PIPELINE))
    mix = SyntheticMixDataset(real, num_fake=args.num_fake,
                              bank_dir=args.bank)
    mix[len(mix) - 1]  # opens the bank
    patch_reader(args.variant, mix)
    before = maxrss_mib()
    indices = np.random.default_rng(0).integers(0, len(mix), args.reads)
    start = time.perf_counter()
    fake = 0
    for i in indices:
        sample = mix[int(i)]
        fake += int(sample['data_samples'].sample_idx >= NUM_REAL)
    elapsed = time.perf_counter() - start
    status = proc_status()
    print(
        json.dumps(
            dict(
                maxrss_before_reads=before,
                maxrss=maxrss_mib(),
                rss_anon=status.get('RssAnon'),
                rss_file=status.get('RssFile'),
                reads=len(indices),
                fake_reads=fake,
                reads_per_s=len(indices) / elapsed)))


def write_bank(bank_dir: str, num_fake: int) -> float:
    import numpy as np

    from cgankd_plugin.synthesis import BankWriter
    from cgankd_plugin.synthesis.layout import condition_of_positions
    start = time.perf_counter()
    rng = np.random.default_rng(num_fake)
    writer = BankWriter(bank_dir, 'bench', num_fake, (3, 32, 32))
    conds = condition_of_positions(num_fake, NUM_CLASSES)
    step = 50000
    for lo in range(0, num_fake, step):
        n = min(step, num_fake - lo)
        writer.append_chunk(
            images=rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8),
            cond_labels=conds[lo:lo + n],
            teacher_labels=rng.integers(0, NUM_CLASSES, n))
    writer.finalize()
    return time.perf_counter() - start


def dir_size(path: str) -> int:
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(path) for name in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--small', action='store_true',
                        help='a 100k-image large bank instead of 1M')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--reads', type=int, default=20000)
    parser.add_argument('--tmpdir', default=None,
                        help='where the banks go (default: $TMPDIR, /tmp)')
    parser.add_argument('--diagnose', action='store_true',
                        help='also run the large bank read through memory '
                        'maps (the former read path, patched in the child '
                        'only)')
    parser.add_argument('--child', action='store_true',
                        help=argparse.SUPPRESS)
    parser.add_argument('--variant', default='pread',
                        help=argparse.SUPPRESS)
    parser.add_argument('--bank', help=argparse.SUPPRESS)
    parser.add_argument('--cifar', help=argparse.SUPPRESS)
    parser.add_argument('--num-fake', type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    small_n = 10000
    large_n = 100000 if args.small else 1000000
    tmp = args.tmpdir or tempfile.gettempdir()
    need = (small_n + large_n) * 3072 * 2.1  # chunks + assembled copy
    free = shutil.disk_usage(tmp).free
    print('bank_memory:', bu.host_summary())
    print(subprocess.run(['df', '-h', tmp], capture_output=True,
                         text=True).stdout.strip())
    if free < need:
        print(f'not enough free disk in {tmp}: {free / 2**30:.1f} GiB free, '
              f'~{need / 2**30:.1f} GiB needed; use --small or --tmpdir')
        return
    root = tempfile.mkdtemp(prefix='cgankd_bench_mem_', dir=tmp)
    cases = [(small_n, 'pread'), (large_n, 'pread')]
    if args.diagnose:
        cases.append((large_n, 'memmap'))
    results = {case: [] for case in cases}
    try:
        sys.path.insert(0, os.path.join(bu.REPO_ROOT, 'tests'))
        import cgankd_plugin  # noqa: F401
        from conftest import write_cifar100
        cifar = write_cifar100(os.path.join(root, 'cifar'), NUM_REAL, 100)
        banks = {}
        for n in (small_n, large_n):
            banks[n] = os.path.join(root, f'bank_{n}')
            seconds = write_bank(banks[n], n)
            print(f'wrote a {n}-image bank: '
                  f'{dir_size(banks[n]) / 2**30:.2f} GiB in {seconds:.1f} s')
        print(f'{args.reads} random reads per process over real '
              f'{NUM_REAL} + fake; {args.repeats} interleaved repeats; '
              f'load {bu.load_average()}')
        for i in range(args.repeats):
            for n, variant in (cases if i % 2 == 0 else cases[::-1]):
                out = subprocess.run(
                    [
                        sys.executable, os.path.abspath(__file__), '--child',
                        '--bank', banks[n], '--cifar', cifar, '--num-fake',
                        str(n), '--reads',
                        str(args.reads), '--variant', variant
                    ],
                    capture_output=True,
                    text=True,
                    check=False)
                if out.returncode:
                    print(out.stderr[-3000:])
                    raise RuntimeError(f'child for the {n} bank failed')
                res = json.loads(out.stdout.strip().splitlines()[-1])
                results[(n, variant)].append(res)
                print(f'  repeat {i}, bank {n:>7} {variant:<11}: peak RSS '
                      f'{res["maxrss"]:.1f} MiB (before reads '
                      f'{res["maxrss_before_reads"]:.1f}), RssAnon '
                      f'{res["rss_anon"]:.1f}, RssFile '
                      f'{res["rss_file"]:.1f}, '
                      f'{res["reads_per_s"]:.0f} reads/s '
                      f'(load {bu.load_average()})')
    finally:
        shutil.rmtree(root, ignore_errors=True)
        print(f'deleted {root}: {not os.path.exists(root)}')

    def med(case, key):
        return bu.median([r[key] for r in results[case]])

    print('\nresults (MiB, medians):')
    rows = []
    for case in cases:
        rows.append({
            'bank': f'{case[0]}',
            'read path': case[1] + ('' if case[1] == 'pread' else
                                    ' (diagnostic)'),
            'peak RSS': f'{med(case, "maxrss"):.1f}',
            'peak before reads': f'{med(case, "maxrss_before_reads"):.1f}',
            'RssAnon end': f'{med(case, "rss_anon"):.1f}',
            'RssFile end': f'{med(case, "rss_file"):.1f}',
            'reads/s': f'{med(case, "reads_per_s"):.0f}'
        })
    bu.print_table(rows)
    small, large = (small_n, 'pread'), (large_n, 'pread')
    ratio = med(large, 'maxrss') / med(small, 'maxrss')
    print(f'RATIO peak RSS {large_n} / {small_n} = {ratio:.3f}; '
          f'{bu.verdict(ratio, TARGET)}')
    anon = med(large, 'rss_anon') / med(small, 'rss_anon')
    print(f'ratio RssAnon {large_n} / {small_n} = {anon:.3f} (memory the '
          'process owns; the rest of RSS is mapped files: the shared '
          'libraries, and the bank when it is memory-mapped)')
    if (large_n, 'memmap') in results:
        r = med((large_n, 'memmap'), 'maxrss') / med(small, 'maxrss')
        print(f'diagnostic: peak RSS {large_n} read through memory maps / '
              f'{small_n} = {r:.3f}')
    print(f'load average at the end: {bu.load_average()}')


if __name__ == '__main__':
    main()
