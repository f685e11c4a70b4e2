# Copyright (c) cgankd_plugin contributors.
"""A KD training step fed by SyntheticMixDataset vs by the real set alone.

Usage::

    .venv/bin/python benchmarks/mix_dataset_step.py [--small]
        [--blocks N] [--block-iters N]

Measured per iteration: fetching a batch of 64 from a DataLoader
(``num_workers=0``, random sampler, mmengine's ``pseudo_collate``) plus
``model.train_step`` (preprocessing, student + teacher forward, KD loss,
backward, SGD step), for

* ``real``: the loader over the real dataset alone (a CIFAR-100 written in
  the official pickle layout, read by ``LocalCIFAR100(check_md5=False)``);
* ``mix``: the loader over ``SyntheticMixDataset(real, bank)``, the bank
  holding twice as many images as the real set (the paper's 100k fake +
  50k real), written with ``BankWriter`` (random 3x32x32 uint8 images).

Both use the same pipeline (RandomCrop 32 pad 4, RandomFlip,
``mmrazor.TeacherRelabel``, ``mmpretrain.PackInputs``; TeacherRelabel
leaves real samples alone) and the same model: the plugin's
``StrictTeacherDistill`` with mmrazor's ``ConfigurableDistiller`` and
``KLDivergence`` (tau 4, 0.9 KL + 0.1 CE, as ``configs/distill/``
``kd_logits_resnet32x4_resnet8x4_1xb64_cifar100.py``), but an untrained
ResNetCIFAR resnet8x4 teacher and resnet8 student for speed.

The two loaders run in interleaved blocks (real, mix, mix, real, ...) of
``--block-iters`` iterations; the ratio is median(mix) / median(real) of
the per-iteration times. Target <= 1.03. The data-loading part alone is
reported too.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import torch

import _bench_utils as bu  # noqa: I100 (adds the repo to sys.path)

import cgankd_plugin  # noqa: E402,F401,I100
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.optim import OptimWrapper  # noqa: E402
from torch.utils.data import DataLoader, RandomSampler  # noqa: E402

from cgankd_plugin.datasets import SyntheticMixDataset  # noqa: E402
from cgankd_plugin.registry import DATASETS, MODELS  # noqa: E402
from cgankd_plugin.synthesis import BankWriter  # noqa: E402
from cgankd_plugin.synthesis.layout import condition_of_positions  # noqa

sys.path.insert(0, os.path.join(bu.REPO_ROOT, 'tests'))
from conftest import write_cifar100  # noqa: E402

TARGET = 1.03
BATCH = 64
NUM_CLASSES = 100
PIPELINE = [
    dict(type='mmpretrain.RandomCrop', crop_size=32, padding=4),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmrazor.TeacherRelabel'),
    dict(type='mmpretrain.PackInputs'),
]


def write_bank(bank_dir: str, num_fake: int, seed: int = 0) -> None:
    """A bank of random images in per-class blocks, as a build lays out."""
    rng = np.random.default_rng(seed)
    writer = BankWriter(bank_dir, 'bench', num_fake, (3, 32, 32))
    conds = condition_of_positions(num_fake, NUM_CLASSES)
    step = 4096
    for start in range(0, num_fake, step):
        n = min(step, num_fake - start)
        writer.append_chunk(
            images=rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8),
            cond_labels=conds[start:start + n],
            teacher_labels=rng.integers(0, NUM_CLASSES, n))
    writer.finalize()


def build_model():
    """StrictTeacherDistill + KD (KLDivergence), resnet8x4 -> resnet8."""

    def classifier(arch, width):
        return dict(
            _scope_='mmpretrain',
            type='ImageClassifier',
            backbone=dict(type='mmrazor.ResNetCIFAR', arch=arch),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead',
                num_classes=NUM_CLASSES,
                in_channels=width,
                loss=dict(type='CrossEntropyLoss', loss_weight=0.1)))

    teacher = classifier('resnet8x4', 256)
    teacher['head'].pop('loss')
    return MODELS.build(
        dict(
            _scope_='mmrazor',
            type='StrictTeacherDistill',
            data_preprocessor=dict(
                type='mmpretrain.ClsDataPreprocessor',
                num_classes=NUM_CLASSES,
                mean=bu.CIFAR_MEAN,
                std=bu.CIFAR_STD,
                to_rgb=False),
            architecture=classifier('resnet8', 64),
            teacher=teacher,
            teacher_ckpt=None,
            distiller=dict(
                type='ConfigurableDistiller',
                student_recorders=dict(
                    logits=dict(type='ModuleOutputs', source='head.fc')),
                teacher_recorders=dict(
                    logits=dict(type='ModuleOutputs', source='head.fc')),
                distill_losses=dict(
                    loss_kd=dict(
                        type='KLDivergence',
                        tau=4,
                        loss_weight=0.9,
                        reduction='batchmean')),
                loss_forward_mappings=dict(
                    loss_kd=dict(
                        preds_S=dict(from_student=True, recorder='logits'),
                        preds_T=dict(from_student=False,
                                     recorder='logits'))))))


class Feed:
    """An endless iterator over a DataLoader (re-created at epoch ends)."""

    def __init__(self, dataset, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.loader = DataLoader(
            dataset,
            batch_size=BATCH,
            sampler=RandomSampler(dataset, generator=gen),
            num_workers=0,
            collate_fn=pseudo_collate,
            drop_last=True)
        self.it = iter(self.loader)

    def next(self):
        try:
            return next(self.it)
        except StopIteration:
            self.it = iter(self.loader)
            return next(self.it)


def run_block(feed: Feed, model, optim_wrapper, iters: int, totals: list,
              loads: list) -> None:
    for _ in range(iters):
        start = time.perf_counter()
        batch = feed.next()
        loaded = time.perf_counter()
        model.train_step(batch, optim_wrapper)
        end = time.perf_counter()
        totals.append(end - start)
        loads.append(loaded - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--small', action='store_true',
                        help='1,000 real + 2,000 fake, 4 blocks of 5 iters')
    parser.add_argument('--blocks', type=int, default=None,
                        help='blocks per side')
    parser.add_argument('--block-iters', type=int, default=None)
    args = parser.parse_args()
    num_real = 1000 if args.small else 5000
    num_fake = 2 * num_real
    blocks = args.blocks or (4 if args.small else 20)
    block_iters = args.block_iters or (5 if args.small else 6)

    root = tempfile.mkdtemp(prefix='cgankd_bench_mix_')
    try:
        write_cifar100(os.path.join(root, 'cifar'), num_real, 100)
        bank_dir = os.path.join(root, 'bank')
        write_bank(bank_dir, num_fake)
        real = DATASETS.build(
            dict(
                type='LocalCIFAR100',
                data_root=os.path.join(root, 'cifar'),
                split='train',
                check_md5=False,
                pipeline=PIPELINE))
        mix = SyntheticMixDataset(real, num_fake=num_fake,
                                  bank_dir=bank_dir)
        assert len(real) == num_real and len(mix) == num_real + num_fake
        torch.manual_seed(0)
        model = build_model()
        model.train()  # mmrazor's train() keeps the teacher in eval mode
        optim_wrapper = OptimWrapper(
            torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9,
                            weight_decay=5e-4))
        print('mix_dataset_step:', bu.host_summary())
        print(f'real {num_real} images, bank {num_fake} images, batch '
              f'{BATCH}, num_workers 0; {blocks} blocks x {block_iters} '
              'iterations per side, interleaved')

        feeds = dict(real=Feed(real, 1), mix=Feed(mix, 2))
        # warm-up, not timed: first batches, lazy bank open, allocator
        for feed in feeds.values():
            run_block(feed, model, optim_wrapper, 3, [], [])
        totals = dict(real=[], mix=[])
        loads = dict(real=[], mix=[])
        fake_share = []
        for b in range(blocks):
            order = ('real', 'mix') if b % 2 == 0 else ('mix', 'real')
            for name in order:
                run_block(feeds[name], model, optim_wrapper, block_iters,
                          totals[name], loads[name])
            print(f'  block {b}: real {bu.median(totals["real"][-block_iters:]):.4f} s/it, '  # noqa: E501
                  f'mix {bu.median(totals["mix"][-block_iters:]):.4f} s/it '
                  f'(load {bu.load_average()})')
        # how much of a mix batch is fake (sanity: about 2/3)
        batch = feeds['mix'].next()
        fake_share.append(
            np.mean([s.sample_idx >= num_real
                     for s in batch['data_samples']]))
    finally:
        shutil.rmtree(root, ignore_errors=True)

    r, m = bu.median(totals['real']), bu.median(totals['mix'])
    rl, ml = bu.median(loads['real']), bu.median(loads['mix'])
    print('\nresults (seconds per iteration, median [min..max]):')
    print(f'  real  load+step {bu.spread(totals["real"])}')
    print(f'  mix   load+step {bu.spread(totals["mix"])}')
    print(f'  real  load only {bu.spread(loads["real"])}')
    print(f'  mix   load only {bu.spread(loads["mix"])}')
    print(f'fake share of a mix batch: {fake_share[0]:.2f}')
    ratio = m / r
    print(f'RATIO mix / real (load + train_step) = {ratio:.3f}; '
          f'{bu.verdict(ratio, TARGET)}')
    print(f'ratio mix / real (data loading only) = {ml / rl:.3f} '
          f'({(ml - rl) * 1e3:+.2f} ms per batch of {BATCH})')
    print(f'load average at the end: {bu.load_average()}')


if __name__ == '__main__':
    main()
