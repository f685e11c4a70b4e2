# Copyright (c) cgankd_plugin contributors.
"""Peak RSS of the cGAN + cDR-RS stage: 10k against 100k real images.

Usage::

    .venv/bin/python benchmarks/cgan_stage_memory.py [--repeats N]
        [--tmpdir DIR] [--large N] [--control]

Two real sets of 3x32x32 PNG files in ImageNet's folder layout (10
classes) are written to a temporary directory and read by the
``ImageNet100`` dataset, as a user's file-backed set is. For each set, a
fresh subprocess runs the stage as ``CGANHook`` composes it:
``DatasetImages`` over the dataset, the cGAN recipe trained by a nested
MMEngine Runner (``train_cgan``: a BigGAN of width 8, ``--gan-iters``
iterations of batch 64, 2 D steps, the images streamed by its
dataloader), the quality figure (2,000 images a side) and a bank of
1,000 images with cDR-RS (the teacher's features of every real image and
of its mirror image, one epoch of fitting against fresh fakes: the memory
does not depend on the epochs; ``M`` from 100 fakes a class; the fitted
model's ratios are then replaced by 1, as a model
fitted to an untrained cGAN's fakes gives them all 0, which rejection
sampling refuses) and the teacher filter.
The teacher is an untrained ``resnet8`` (64-d features). Runs alternate
(10k, 100k, 100k, 10k, ...).

``--control`` also runs the large set with the real images of cDR-RS and
the quality figure read into one tensor first (``TensorImages``): the
memory the streaming saves, to show the benchmark sees it.

Reported per case (medians): peak RSS (``ru_maxrss``) after the imports
and at the end, ``RssAnon`` at the end, and the seconds of each phase.
Target: peak RSS of the large case within 10% of the 10k case.
"""
import argparse
import json
import os
import os.path as osp
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import _bench_utils as bu  # noqa: I100 (adds the repo to sys.path)

TARGET = 1.10
NUM_CLASSES = 10
IMG_SIZE = 32


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_anon_mib() -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('RssAnon:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def write_real_set(root: str, num: int) -> float:
    """``num`` PNG files in ``<root>/train/<class>/``; returns seconds."""
    import mmcv
    import numpy as np
    start = time.perf_counter()
    rng = np.random.default_rng(num)
    names = [f'n{c:08d}' for c in range(NUM_CLASSES)]
    with open(osp.join(root, 'classes.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')
    for c, name in enumerate(names):
        os.makedirs(osp.join(root, 'train', name))
    # a class's images share a colour, plus noise
    colours = rng.integers(0, 256, (NUM_CLASSES, 1, 1, 3))
    for i in range(num):
        c = i % NUM_CLASSES
        noise = rng.integers(-40, 41, (IMG_SIZE, IMG_SIZE, 3))
        image = np.clip(colours[c] + noise, 0, 255).astype(np.uint8)
        mmcv.imwrite(image, osp.join(root, 'train', names[c], f'{i}.png'))
    return time.perf_counter() - start


def child(args) -> None:
    """Run the stage on one real set; print one JSON line."""
    import torch

    import cgankd_plugin  # noqa: F401
    from cgankd_plugin.registry import DATASETS
    from cgankd_plugin.structures import DatasetImages, TensorImages
    from cgankd_plugin.synthesis import TeacherAdapter
    from cgankd_plugin.synthesis.builder import make_bank_builder
    from cgankd_plugin.synthesis.gan_quality import teacher_gan_quality
    from mmengine.config import Config
    from mmengine.logging import MMLogger

    from cgankd_plugin.engine.cgan_training import train_cgan

    torch.set_num_threads(1)
    after_imports = maxrss_mib()
    times = {}
    start = time.perf_counter()
    dataset = DATASETS.build(
        dict(type='ImageNet100', data_root=args.real,
             class_list='classes.txt', split='train', pipeline=[]))
    real = DatasetImages(dataset, IMG_SIZE, lambda info: info['gt_label'])
    if args.variant == 'in_memory':
        real = TensorImages(real.read(range(len(real))), real.labels)
    times['read_labels'] = time.perf_counter() - start

    recipe = Config.fromfile(
        osp.join(bu.REPO_ROOT, 'configs', '_base_', 'cgan_runtime.py'))
    recipe.merge_from_dict(dict(
        model=dict(bu.gan_config(base_channels=8), discriminator_steps=2),
        train_dataloader=dict(
            batch_size=64, num_workers=0,
            dataset=dict(type='ImageNet100', data_root=args.real,
                         class_list='classes.txt', split='train',
                         pipeline=[dict(type='mmrazor.LoadImageUnlessGiven'),
                                   dict(type='mmpretrain.PackInputs')]),
            sampler=dict(type='InfiniteSampler', shuffle=True),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(
            generator=dict(optimizer=dict(type='Adam', lr=1e-4,
                                          betas=(0.0, 0.999))),
            discriminator=dict(optimizer=dict(type='Adam', lr=1e-4,
                                              betas=(0.0, 0.999)))),
        train_cfg=dict(by_epoch=False, max_iters=args.gan_iters * 2),
        default_hooks=dict(checkpoint=dict(interval=1000))))
    start = time.perf_counter()
    gan = train_cgan(recipe, osp.join(args.work, 'cgan'), 'none', {},
                     MMLogger.get_instance('bench'))
    times['cgan'] = time.perf_counter() - start

    teacher = TeacherAdapter(bu.build_classifier('resnet8'))
    start = time.perf_counter()
    teacher_gan_quality(gan, teacher, real, num_samples=2000,
                        batch_size=256)
    times['quality'] = time.perf_counter() - start

    # the ratios of a model fitted to an untrained cGAN's fakes collapse
    # to 0 and rejection sampling would refuse every candidate: the
    # fitted model predicts as shipped, then every ratio is taken as 1
    from cgankd_plugin.synthesis.builder import subsampling
    predict = subsampling.predict_density_ratio

    def predict_ones(model, feats, labels):
        return torch.ones_like(predict(model, feats, labels))

    subsampling.predict_density_ratio = predict_ones
    start = time.perf_counter()
    builder = make_bank_builder(
        gan, teacher, 1000, torch.arange(NUM_CLASSES),
        torch.arange(NUM_CLASSES).numpy(), relabel='hard',
        subsample=dict(epochs=1, burn_in=100), filter_quantile=0.9,
        burn_in=100, batch_size=256, seed=0, max_rounds_per_condition=50,
        log=lambda line: None)
    bank = builder.build(osp.join(args.work, 'bank'), 'bench',
                         dict(bench=True), real)
    times['bank_with_cdr_rs'] = time.perf_counter() - start
    print(json.dumps(dict(
        num_real=len(real), bank=len(bank),
        maxrss_after_imports=after_imports, maxrss=maxrss_mib(),
        rss_anon=rss_anon_mib(), seconds=times)))


def run_child(args, variant: str, real_dir: str, work: str) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    cmd = [sys.executable, osp.abspath(__file__), '--child',
           '--variant', variant, '--real', real_dir, '--work', work,
           '--gan-iters', str(args.gan_iters)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f'child failed:\n{out.stderr[-4000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeats', type=int, default=2)
    parser.add_argument('--small', type=int, default=10000)
    parser.add_argument('--large', type=int, default=100000)
    parser.add_argument('--gan-iters', type=int, default=20)
    parser.add_argument('--tmpdir', default=None)
    parser.add_argument('--control', action='store_true',
                        help='also the large set read into one tensor')
    parser.add_argument('--child', action='store_true',
                        help=argparse.SUPPRESS)
    parser.add_argument('--variant', default='streamed',
                        help=argparse.SUPPRESS)
    parser.add_argument('--real', help=argparse.SUPPRESS)
    parser.add_argument('--work', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    print('cgan_stage_memory:', bu.host_summary())
    root = tempfile.mkdtemp(prefix='cgankd_bench_stage_', dir=args.tmpdir)
    try:
        sets = {}
        for n in (args.small, args.large):
            sets[n] = osp.join(root, f'real_{n}')
            os.makedirs(sets[n])
            seconds = write_real_set(sets[n], n)
            print(f'wrote {n} PNG files in {seconds:.1f} s')
        cases = [(args.small, 'streamed'), (args.large, 'streamed')]
        if args.control:
            cases.append((args.large, 'in_memory'))
        results = {case: [] for case in cases}
        for rep in range(args.repeats):
            order = cases if rep % 2 == 0 else cases[::-1]
            for n, variant in order:
                result = run_child(args, variant, sets[n],
                                   osp.join(root, 'work'))
                results[(n, variant)].append(result)
                print(f'repeat {rep}: {n} real, {variant}: peak RSS '
                      f'{result["maxrss"]:.1f} MiB, '
                      f'seconds {json.dumps(result["seconds"])}')
    finally:
        shutil.rmtree(root, ignore_errors=True)
    rows = []
    for (n, variant), runs in results.items():

        def median_of(name):
            return f'{bu.median([r[name] for r in runs]):.1f}'

        rows.append(dict(
            real_images=str(n), variant=variant,
            peak_rss_mib=bu.spread([r['maxrss'] for r in runs]),
            after_imports_mib=median_of('maxrss_after_imports'),
            rss_anon_end_mib=median_of('rss_anon'),
            stage_seconds=bu.spread(
                [sum(r['seconds'].values()) for r in runs])))
    bu.print_table(rows)
    small = bu.median([r['maxrss'] for r in results[(args.small,
                                                     'streamed')]])
    large = bu.median([r['maxrss'] for r in results[(args.large,
                                                     'streamed')]])
    ratio = large / small
    print(f'peak RSS {args.large} / {args.small} real images (streamed): '
          f'{ratio:.3f} ({bu.verdict(ratio, TARGET)})')
    if args.control:
        control = bu.median(
            [r['maxrss'] for r in results[(args.large, 'in_memory')]])
        print(f'control, {args.large} real images in one tensor: '
              f'{control / small:.3f} of the streamed {args.small}')
    print('load average after:', bu.load_average())


if __name__ == '__main__':
    main()
