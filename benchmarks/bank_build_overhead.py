# Copyright (c) cgankd_plugin contributors.
"""Overhead of a bank build over bare sampling + teacher forward.

Usage::

    .venv/bin/python benchmarks/bank_build_overhead.py [--small]
        [--repeats N] [--num-fake N] [--no-profile]

Measured, interleaved (build, bare, bare in full batches, then the
reverse order, ...) over ``--repeats`` rounds, medians reported:

* ``build``: ``ClassificationBankBuilder.build`` of a fresh bank (no
  cDR-RS, filter quantile 0.9, relabel 'hard', burn-in 100 per class,
  bank_batch_size 256, num_fake 2000, 10 classes), from the
  ``BankWriter`` constructor to the finalized bank: burn-in, rounds,
  per-round chunk commits, final assembly and checksums.
* ``bare``: a loop of ``gan.sample`` (+ the uint8 conversion the teacher
  takes) and ``TeacherAdapter`` over every candidate the build drew,
  burn-in included (its survivors go into the bank, so it is candidates
  like the rounds), in the very batches the build drew
  (``builder.draws``, recorded after a build): the same images through G
  and T, nothing else.
* ``bare, full batches``: the same number of images in batches of 256,
  to show what the smaller rounds (sized on what a class still needs)
  cost in throughput.

Target: build / bare <= 1.15. A cProfile of one build follows, with the
time of each stage (burn-in draws, rounds, chunk writes, finalize).

``--small``: every size / 4 (num_fake 500, bank_batch_size 64, burn-in 25),
2 repeats: the same shape of work, about 4x quicker.

Models (untrained, weights do not change the cost): a ClassConditionalGAN
(BigGANGenerator / ProjectionDiscriminator, base_channels 16, 32x32, 10
classes) and an mmpretrain ImageClassifier on mmrazor's ResNetCIFAR
'resnet20' (on a loaded 2-core VM, BigGAN at base_channels 32 takes ~14 s
and resnet8x4 ~6 s per 256 images, too slow for repeats).
"""
import argparse
import cProfile
import io
import math
import os.path as osp
import pstats
import shutil
import tempfile
import time

import numpy as np
import torch

import _bench_utils as bu  # noqa: I100 (adds the repo to sys.path)

import cgankd_plugin  # noqa: E402,F401,I100
from cgankd_plugin.synthesis import (  # noqa: E402
    TeacherAdapter, make_bank_builder)
from cgankd_plugin.synthesis.builder.rng import (  # noqa: E402
    ROUND_STREAM, seeded, to_uint8)

TARGET = 1.15
GAN_CHANNELS = 16
TEACHER = 'resnet20'


def run_build(gan, adapter, cfg, root: str, tag: str):
    """One fresh build; returns (seconds, builder)."""
    builder = make_bank_builder(
        gan,
        adapter,
        cfg.num_fake,
        gan_labels=torch.arange(bu.NUM_CLASSES),
        bank_labels=np.arange(bu.NUM_CLASSES),
        relabel='hard',
        subsample=None,
        filter_quantile=0.9,
        burn_in=cfg.burn_in,
        batch_size=cfg.batch,
        seed=0,
        log=lambda line: None)
    bank_dir = osp.join(root, f'bank_{tag}')
    start = time.perf_counter()
    bank = builder.build(bank_dir, 'bench-key', dict(bench=True))
    elapsed = time.perf_counter() - start
    assert len(bank) == cfg.num_fake
    shutil.rmtree(bank_dir)
    return elapsed, builder


def run_bare(gan, adapter, batches) -> float:
    """gan.sample + uint8 + teacher over batches of the given sizes."""
    start = time.perf_counter()
    for r, size in enumerate(batches):
        labels = torch.full((size, ), r % bu.NUM_CLASSES, dtype=torch.long)
        images = to_uint8(gan.sample(labels, rng=seeded(0, ROUND_STREAM, r)))
        adapter(images)
    return time.perf_counter() - start


def full_batches(total: int, batch: int):
    """``total`` images in batches of ``batch`` (the last one smaller)."""
    return [batch] * (total // batch) + ([total % batch]
                                         if total % batch else [])


def profile_build(gan, adapter, cfg, root: str) -> None:
    profiler = cProfile.Profile()
    total_start = time.perf_counter()
    profiler.enable()
    _, builder = run_build(gan, adapter, cfg, root, 'profile')
    profiler.disable()
    total = time.perf_counter() - total_start
    stats = pstats.Stats(profiler)
    wanted = {
        ('classification.py', '_fill'): 'all streams (_fill)',
        ('classification.py', '_class_burn_in'):
        '  burn-in draws + burn-in chunks',
        ('base.py', '_round'): '  rounds (sample+teacher+filter)',
        ('writer.py', 'append_chunk'): '  append_chunk (commit)',
        ('writer.py', '_write_chunk'): '    savez + fsync of chunk',
        ('writer.py', '_write_partial_record'):
        '    partial.json (atomic+fsync)',
        ('writer.py', 'finalize'): 'finalize (assemble+hash+fsync)',
        ('base_conditional_gan.py', 'sample'): 'gan.sample, all calls',
        ('teacher_adapter.py', '__call__'): 'TeacherAdapter, all calls',
    }
    found = {}
    fsync = 0.0
    for (filename, _, name), row in stats.stats.items():
        key = (osp.basename(filename), name)
        if key in wanted:
            calls, cumtime = row[1], row[3]
            prev = found.get(key, (0, 0.0))
            found[key] = (prev[0] + calls, prev[1] + cumtime)
        if 'fsync' in name:
            fsync += row[3]
    print(f'\ncProfile of one build ({total:.3f} s wall under the '
          'profiler; cumulative times):')
    rows = []
    for key, label in wanted.items():
        calls, cum = found.get(key, (0, 0.0))
        rows.append(dict(stage=label, calls=str(calls), seconds=f'{cum:.3f}',
                         share=f'{100 * cum / total:.1f}%'))
    rows.append(dict(stage='os.fsync, all calls', calls='-',
                     seconds=f'{fsync:.3f}',
                     share=f'{100 * fsync / total:.1f}%'))
    bu.print_table(rows)
    print(f'draws: {len(builder.draws)} (sizes {builder.draws}), '
          f'candidates {builder.num_candidates}, of which burn-in '
          f'{cfg.burn_in * bu.NUM_CLASSES}')
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats('cumulative').print_stats(
        15)
    print('\ntop functions by cumulative time:')
    print('\n'.join(
        line for line in out.getvalue().splitlines()[6:] if line.strip()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--small', action='store_true',
                        help='sizes / 4 and 2 repeats (a quick check)')
    parser.add_argument('--repeats', type=int, default=None)
    parser.add_argument('--num-fake', type=int, default=None)
    parser.add_argument('--no-profile', action='store_true')
    cfg = parser.parse_args()
    scale = 4 if cfg.small else 1
    cfg.num_fake = cfg.num_fake or 2000 // scale
    cfg.batch = 256 // scale
    cfg.burn_in = 100 // scale
    repeats = cfg.repeats or (2 if cfg.small else 3)

    torch.manual_seed(0)
    gan = bu.build_gan(base_channels=GAN_CHANNELS).eval()
    teacher = bu.build_classifier(TEACHER).eval()
    adapter = TeacherAdapter(teacher)
    print('bank_build_overhead:', bu.host_summary())
    print(f'GAN BigGAN base_channels {GAN_CHANNELS}, teacher {TEACHER}; '
          f'num_fake {cfg.num_fake}, bank_batch_size {cfg.batch}, burn-in '
          f'{cfg.burn_in} x {bu.NUM_CLASSES} classes, filter quantile 0.9, '
          f'relabel hard, no cDR-RS; {repeats} interleaved repeats')

    root = tempfile.mkdtemp(prefix='cgankd_bench_build_')
    try:
        # warm-up (allocator, lazy inits), not timed; the first repeat
        # starts with a build, which fixes the batches the bare sides draw
        run_bare(gan, adapter, [cfg.batch, cfg.burn_in])
        draws = None
        builds, bares, fulls = [], [], []
        for i in range(repeats):
            order = ('build', 'bare', 'full') if i % 2 == 0 else (
                'full', 'bare', 'build')
            for what in order:
                if what == 'build':
                    t, builder = run_build(gan, adapter, cfg, root, str(i))
                    # every image through G and T is a candidate now
                    assert sum(builder.draws) == builder.num_candidates
                    draws = draws or list(builder.draws)
                    assert builder.draws == draws  # deterministic
                    builds.append(t)
                elif what == 'bare':
                    bares.append(run_bare(gan, adapter, draws))
                else:
                    fulls.append(
                        run_bare(gan, adapter,
                                 full_batches(sum(draws), cfg.batch)))
            print(f'  repeat {i}: build {builds[-1]:.3f} s, bare '
                  f'{bares[-1]:.3f} s, bare in full batches '
                  f'{fulls[-1]:.3f} s (load {bu.load_average()})')
        if not cfg.no_profile:
            profile_build(gan, adapter, cfg, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    b, r = bu.median(builds), bu.median(bares)
    paired = bu.median([x / y for x, y in zip(builds, bares)])
    candidates = sum(draws)
    burn = cfg.burn_in * bu.NUM_CLASSES
    print('\nresults (seconds, median [min..max]):')
    print(f'  build                 {bu.spread(builds)}')
    print(f'  bare                  {bu.spread(bares)}')
    print(f'  bare, full batches    {bu.spread(fulls)}')
    print(f'images through G and T per build: {candidates} = burn-in {burn} '
          f'(its survivors are committed) + {candidates - burn} in '
          f'{len(draws) - bu.NUM_CLASSES} rounds; draw sizes in order: '
          f'{draws}')
    old = burn + bu.NUM_CLASSES * cfg.batch * math.ceil(
        (cfg.num_fake / bu.NUM_CLASSES) / (0.9 * cfg.batch))
    print(f'the builder before issue #5 drew {old} at acceptance 0.9 '
          f'(burn-in thrown away + full rounds of {cfg.batch}): '
          f'{100 * (1 - candidates / old):.0f}% fewer now')
    print(f'acceptance rate (accepted / candidates, burn-in included): '
          f'{cfg.num_fake / candidates:.4f}')
    print(f'accepted images/s (build): {cfg.num_fake / b:.1f}; candidate '
          f'images/s (bare): {candidates / r:.1f}')
    ratio = b / r
    print(f'RATIO build / bare = {ratio:.3f} (median of per-repeat ratios '
          f'{paired:.3f}); {bu.verdict(ratio, TARGET)}')
    print(f'ratio bare / bare in full batches = {r / bu.median(fulls):.3f} '
          '(what the smaller rounds do to throughput; < 1: faster)')
    print(f'load average at the end: {bu.load_average()}')


if __name__ == '__main__':
    main()
