# Copyright (c) cgankd_plugin contributors.
"""A cGAN iteration through MMEngine's API vs the in-memory trainer's.

Usage::

    .venv/bin/python benchmarks/cgan_runner_step.py [--blocks N]
        [--block-iters N] [--batch N] [--width N]

Measured per iteration, on the Fashion-MNIST demo's conditional DCGAN
(``configs/_base_/cgankd/fashion_mnist_dcgan.py``: 28 px, 1 channel, 10
classes, DiffAugment translation, EMA), one
discriminator and one generator update of a batch of ``--batch``:

* ``runner``: ``gan.train_step(data, optim_wrapper)``, what MMEngine's
  ``IterBasedTrainLoop`` calls: a collated batch of ``PackInputs``
  samples through ``ConditionalGANDataPreprocessor`` and an
  ``OptimWrapperDict`` (``OptimWrapper.update_params``);
* ``tensors``: ``gan.train_on_tensors(images, labels, optimizers, ...)``,
  what ``CGANHook``'s trainer calls: batches indexed from an in-memory
  uint8 tensor, torch optimizers stepped directly.

Same networks (one copy each, same initial weights), same Adam settings,
one torch thread. The two run in interleaved blocks (runner, tensors,
tensors, runner, ...) of ``--block-iters`` iterations; the ratio is
median(runner) / median(tensors) of the per-iteration times. Target
<= 1.0 (+ noise): the engine's API may add nothing worth measuring.
Data loading is left out of both (the Runner's loader runs in worker
processes).
"""
import argparse
import copy
import os.path as osp
import time

import _bench_utils as bu
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.structures import BaseDataElement

from cgankd_plugin.registry import MODELS

# the Fashion-MNIST demo's cGAN, as its configs set it
GAN_CONFIG = osp.join(bu.REPO_ROOT, 'configs', '_base_', 'cgankd',
                      'fashion_mnist_dcgan.py')


def _adam(module):
    return torch.optim.Adam(module.parameters(), lr=2e-4, betas=(0.5, 0.999))


def _batch(images, labels, index):
    """A collated batch as the Runner's dataloader hands it over."""
    samples = []
    for i in index.tolist():
        sample = BaseDataElement()
        sample.gt_label = labels[i:i + 1]
        samples.append(sample)
    return dict(inputs=[images[i] for i in index.tolist()],
                data_samples=samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--blocks', type=int, default=10)
    parser.add_argument('--block-iters', type=int, default=20)
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--width', type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(bu.host_summary())
    print(f'load before: {bu.load_average()}')

    cfg = copy.deepcopy(Config.fromfile(GAN_CONFIG).cgan_hook.gan)
    cfg['ema_config']['start_iter'] = 0  # the EMA's cost from the start
    cfg['generator']['base_channels'] = args.width
    cfg['discriminator']['base_channels'] = args.width
    torch.manual_seed(0)
    runner_gan = MODELS.build(cfg)
    tensor_gan = copy.deepcopy(runner_gan)
    wrappers = OptimWrapperDict(
        generator=OptimWrapper(_adam(runner_gan.generator)),
        discriminator=OptimWrapper(_adam(runner_gan.discriminator)))
    optimizers = dict(generator=_adam(tensor_gan.generator),
                      discriminator=_adam(tensor_gan.discriminator))
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (2048, 1, 28, 28), dtype=torch.uint8,
                           generator=gen)
    labels = torch.arange(2048) % 10
    hub = MessageHub.get_instance('cgan_runner_step')
    rng = torch.Generator().manual_seed(1)

    def runner_step(it):
        hub.update_info('iter', it)
        index = torch.randint(0, len(images), (args.batch, ), generator=gen)
        data = _batch(images, labels, index)
        start = time.perf_counter()
        runner_gan.train_step(data, wrappers)
        return time.perf_counter() - start

    def tensor_step(it):
        start = time.perf_counter()
        tensor_gan.train_on_tensors(images, labels, optimizers, args.batch,
                                    rng)
        return time.perf_counter() - start

    sides = dict(runner=runner_step, tensors=tensor_step)
    times = {name: [] for name in sides}
    for name, step in sides.items():  # warm-up
        step(0)
    order = ['runner', 'tensors']
    for block in range(args.blocks):
        for name in (order if block % 2 == 0 else order[::-1]):
            for it in range(args.block_iters):
                times[name].append(sides[name](it))
        print(f'  block {block}: ' + ', '.join(
            f'{n} {bu.median(times[n][-args.block_iters:]):.4f} s/it'
            for n in order))
    ratio = bu.median(times['runner']) / bu.median(times['tensors'])
    bu.print_table([
        dict(side=name, seconds_per_iter=bu.spread(t))
        for name, t in times.items()
    ])
    print(f'load after: {bu.load_average()}')
    print(f'RATIO runner / tensors = {ratio:.3f} '
          f'({bu.verdict(ratio, 1.0)})')


if __name__ == '__main__':
    main()
