# Copyright (c) cgankd_plugin contributors.
"""CRD loader throughput: CRDContrastDataset vs mmrazor's CRDDataset.

Usage::

    .venv/bin/python benchmarks/crd_loader.py [--small] [--packed]
        [--num-samples N] [--workers N] [--blocks N] [--block-batches N]

Both wrappers wrap the same synthetic labelled dataset (``--num-samples``
samples over 100 classes, balanced so that mmrazor's wrapper builds; no
images) whose pipeline only turns ``contrast_sample_idxs`` into a tensor
(default collate: one stacked tensor per batch), so drawing the 16,384
negatives per sample is most of the work. ``--packed``: the configs' path
instead, ``PackCRDInputs`` (a 3x32x32 image) and MMEngine's default
``pseudo_collate`` (a tensor per sample). A third row, ``no sampling``, is
the same loader over a wrapper that hands out a fixed index array: what the
loader itself (collate, transfer between processes) allows. Measured:

* ``init s``: building the wrapper (its per-class index lists);
* ``negatives MB``: what the wrapper keeps to draw negatives from;
* ``us/sample``: ``get_data_info`` in this process, alone;
* ``samples/s``: a torch DataLoader (``--workers`` persistent workers,
  batch 64, random sampler, default collate), in interleaved blocks (ours,
  theirs, no sampling, then rotated) of ``--block-batches`` timed
  batches, each
  block after draining the batches the workers had prefetched; the median
  over blocks.

Target: samples/s ours / mmrazor's >= 5 (issue #21).
"""
import argparse
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, RandomSampler

import _bench_utils as bu  # noqa: I100 (adds the repo to sys.path)

import cgankd_plugin  # noqa: E402,F401,I100
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmpretrain.datasets import BaseDataset  # noqa: E402
from mmrazor.datasets import CRDDataset  # noqa: E402

from cgankd_plugin.datasets import CRDContrastDataset  # noqa: E402

TARGET = 5.0
BATCH = 64
NEG_NUM = 16384
NUM_CLASSES = 100


def to_tensors(info: dict) -> dict:
    """The trivial pipeline: the fields a CRD pack transform emits."""
    return dict(
        sample_idx=info['sample_idx'],
        contrast_sample_idxs=torch.from_numpy(info['contrast_sample_idxs']))


class LabelsOnly(BaseDataset):
    """``num`` samples of balanced classes in a fixed random order.

    Args:
        num (int): Number of samples.
        packed (bool): Pack as the configs do (``PackCRDInputs``) instead
            of ``to_tensors``.
        seed (int): Seed of the label order.
    """

    def __init__(self, num: int, packed: bool, seed: int = 0) -> None:
        self._num, self._seed = num, seed
        pipeline = [to_tensors]
        if packed:
            pipeline = [self.add_image, dict(type='mmrazor.PackCRDInputs')]
        super().__init__(ann_file='', pipeline=pipeline)

    @staticmethod
    def add_image(info: dict) -> dict:
        info['img'] = np.zeros((32, 32, 3), np.uint8)
        return info

    def load_data_list(self):
        labels = np.arange(self._num) % NUM_CLASSES
        labels = np.random.default_rng(self._seed).permutation(labels)
        return [dict(gt_label=int(label)) for label in labels]


class NoSampling(CRDContrastDataset):
    """Hands every sample the same contrast indices (no drawing)."""

    def _get_contrast_info(self, data: dict, idx: int) -> dict:
        data['contrast_sample_idxs'] = np.arange(NEG_NUM + 1)
        return data


def negatives_mb(wrapper) -> float:
    """Megabytes of the arrays a wrapper draws negatives from."""
    if isinstance(wrapper, CRDContrastDataset):
        arrays = [wrapper._by_class, wrapper._class_starts, wrapper._pool]
    else:
        arrays = list(wrapper.cls_negative)
    return sum(a.nbytes for a in arrays) / 2**20


def per_sample_us(wrapper, num: int) -> float:
    idxs = np.random.default_rng(1).integers(len(wrapper), size=num)
    start = time.perf_counter()
    for idx in idxs:
        wrapper.get_data_info(int(idx))
    return (time.perf_counter() - start) / num * 1e6


class Feed:
    """An endless iterator over a DataLoader with persistent workers."""

    def __init__(self, dataset, workers: int, packed: bool,
                 seed: int) -> None:
        self.workers, self.packed = workers, packed
        self.loader = DataLoader(
            dataset,
            batch_size=BATCH,
            sampler=RandomSampler(
                dataset, generator=torch.Generator().manual_seed(seed)),
            num_workers=workers,
            persistent_workers=workers > 0,
            collate_fn=pseudo_collate if packed else None,
            drop_last=True)
        self.it = iter(self.loader)

    def next(self) -> dict:
        try:
            return next(self.it)
        except StopIteration:
            self.it = iter(self.loader)
            return next(self.it)

    def block(self, batches: int) -> float:
        """Samples/s over ``batches`` batches, after the prefetched ones."""
        for _ in range(2 * max(self.workers, 1)):  # prefetch_factor 2
            self.next()
        start = time.perf_counter()
        for _ in range(batches):
            batch = self.next()
        end = time.perf_counter()
        if self.packed:
            contrast = batch['data_samples'][0].contrast_sample_idxs
            assert contrast.shape == (NEG_NUM + 1, )
        else:
            contrast = batch['contrast_sample_idxs']
            assert contrast.shape == (BATCH, NEG_NUM + 1)
        return batches * BATCH / (end - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--small', action='store_true',
                        help='4 blocks of 10 batches per side')
    parser.add_argument('--packed', action='store_true',
                        help="the configs' PackCRDInputs + pseudo_collate")
    parser.add_argument('--num-samples', type=int, default=50000,
                        help='50,000: CIFAR-100; 150,000: + 100k fake')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--blocks', type=int, default=None,
                        help='timed blocks per side')
    parser.add_argument('--block-batches', type=int, default=None)
    args = parser.parse_args()
    blocks = args.blocks or (4 if args.small else 8)
    block_batches = args.block_batches or (10 if args.small else 20)

    print('crd_loader:', bu.host_summary())
    print(f'{args.num_samples} samples, {NUM_CLASSES} classes, neg_num '
          f'{NEG_NUM}, batch {BATCH}, {args.workers} workers per loader; '
          f'{blocks} blocks x {block_batches} batches per side, '
          'interleaved')
    wrappers, rows = {}, []
    for name, cls in (('ours', CRDContrastDataset), ('mmrazor', CRDDataset),
                      ('no sampling', NoSampling)):
        np.random.seed(0)
        start = time.perf_counter()
        wrappers[name] = cls(
            dataset=LabelsOnly(args.num_samples, args.packed),
            neg_num=NEG_NUM,
            percent=1.0)
        rows.append({
            'dataset': name,
            'init s': f'{time.perf_counter() - start:.2f}'
        })
    for row in rows:
        wrapper = wrappers[row['dataset']]
        row['negatives MB'] = f'{negatives_mb(wrapper):.1f}'
        row['us/sample'] = f'{per_sample_us(wrapper, 300):.0f}'

    names = list(wrappers)
    feeds = {
        name: Feed(wrappers[name], args.workers, args.packed, seed=i)
        for i, name in enumerate(names)
    }
    for feed in feeds.values():  # warm-up: workers start, first batches
        feed.block(2)
    rates = {name: [] for name in names}
    for b in range(blocks):
        for name in names[b % 3:] + names[:b % 3]:
            rates[name].append(feeds[name].block(block_batches))
        print(f'  block {b}: ' +
              ', '.join(f'{n} {rates[n][-1]:.0f}' for n in names) +
              f' samples/s (load {bu.load_average()})')
    del feeds

    for row in rows:
        values = rates[row['dataset']]
        row['samples/s'] = (f'{bu.median(values):.0f} '
                            f'[{min(values):.0f}..{max(values):.0f}]')
    print()
    bu.print_table(rows)
    ratio = bu.median(rates['ours']) / bu.median(rates['mmrazor'])
    met = 'MET' if ratio >= TARGET else 'NOT MET'
    print(f'RATIO samples/s ours / mmrazor = {ratio:.2f}; '
          f'target >= {TARGET:.1f}: {met}')
    cap = bu.median(rates['no sampling']) / bu.median(rates['mmrazor'])
    print(f'ratio samples/s no sampling / mmrazor = {cap:.2f} (the most '
          'any sampling could gain through this loader)')
    print(f'load average at the end: {bu.load_average()}')


if __name__ == '__main__':
    main()
