# Copyright (c) cgankd_plugin contributors.
"""cDR-RS fit: fresh fakes at every step against one fixed set of fakes.

Usage::

    .venv/bin/python benchmarks/cdre_fit.py [--num-real N] [--epochs E]
        [--repeats R] [--no-profile]

The Fashion-MNIST demo's networks, untrained (weights do not change the
cost): the conditional DCGAN of ``configs/cgan/dcgan_1xb64_fashion_mnist.py``
(28x28, one channel) and the VGG-8 teacher of
``configs/fashion_mnist/vgg8_1xb128_fashion_mnist.py`` seen through the
student's test view (``GrayToRGB``), 512-d features; the official MLP-5,
batches of 256, 10 classes. ``--num-real`` random real images (an epoch
of the demo's 55,000 costs 55000 / N times the figures below).

Measured, interleaved (fresh, fixed, then fixed, fresh, ...) over
``--repeats`` rounds, medians reported, seconds per epoch of ``--epochs``,
wall-clock and the process's CPU time (on a shared machine the wall
clock also counts other processes' turns; the CPU time much less):

* ``fresh``: :func:`fit_density_ratio` as the bank builder runs it: every
  step generates a fake at each label of its real batch
  (``SubsamplingMixin._fake_features``: generator, uint8, the teacher's
  view and network) and picks each real image plain or mirrored.
* ``fixed``: the fit before fresh fakes, reimplemented here (its code is
  gone): one fake per real image generated and featurised once, then
  epochs of MLP steps over the two fixed feature sets (its per-step
  ``float(loss)`` included).

Their one-time work is timed apart: the teacher's features of the real
images (and, for ``fresh``, of their mirrors), and for ``fixed`` the one
fake per real image. Target (issue #21): fresh / fixed per epoch <= 1.3
(wall). A cProfile of one fresh epoch follows, with the share of each
stage.
"""
import argparse
import cProfile
import functools
import io
import os.path as osp
import pstats
import time
from typing import Tuple

import numpy as np
import torch

import _bench_utils as bu  # noqa: I100 (adds the repo to sys.path)

import cgankd_plugin  # noqa: E402,F401,I100
from mmengine.config import Config  # noqa: E402
from cgankd_plugin.registry import MODELS  # noqa: E402
from cgankd_plugin.structures import TensorImages  # noqa: E402
from cgankd_plugin.synthesis import (  # noqa: E402
    TeacherAdapter, make_bank_builder)
from cgankd_plugin.synthesis.builder.rng import seeded, to_uint8  # noqa
from cgankd_plugin.synthesis.density_ratio import (  # noqa: E402
    DensityRatioMLP, fit_density_ratio, penalized_softplus_loss)
from cgankd_plugin.synthesis.teacher_view import TeacherView  # noqa: E402

TARGET = 1.3
BATCH = 256
GAN_CFG = 'configs/cgan/dcgan_1xb64_fashion_mnist.py'
TEACHER_CFG = 'configs/fashion_mnist/vgg8_1xb128_fashion_mnist.py'


def build_nets():
    """The demo's DCGAN and VGG-8 teacher (as its adapter), untrained."""
    gan_cfg = Config.fromfile(osp.join(bu.REPO_ROOT, GAN_CFG))
    teacher_cfg = Config.fromfile(osp.join(bu.REPO_ROOT, TEACHER_CFG))
    torch.manual_seed(0)
    gan = MODELS.build(gan_cfg.model).eval()
    model = dict(teacher_cfg.model,
                 data_preprocessor=teacher_cfg.data_preprocessor)
    teacher = MODELS.build(model).eval()
    view = TeacherView([dict(type='mmrazor.GrayToRGB')], 'bench')
    return gan, TeacherAdapter(teacher, view=view)


def make_builder(gan, adapter):
    return make_bank_builder(
        gan, adapter, 100, gan_labels=torch.arange(bu.NUM_CLASSES),
        bank_labels=np.arange(bu.NUM_CLASSES),
        subsample=dict(batch_size=BATCH), batch_size=BATCH, seed=0,
        log=lambda line: None)


class Clock:
    """Wall-clock and process CPU seconds since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def per(self, count: int) -> Tuple[float, float]:
        return ((time.perf_counter() - self.wall) / count,
                (time.process_time() - self.cpu) / count)


def fit_fresh(builder, real, feats, flipped,
              epochs: int) -> Tuple[float, float]:
    """Seconds per epoch (wall, CPU) of the fit as the builder runs it."""
    fakes = functools.partial(builder._fake_features, rng=seeded(0, 3, 1))
    clock = Clock()
    fit_density_ratio(feats, real.labels, fakes, bu.NUM_CLASSES,
                      epochs=epochs, batch_size=BATCH, flipped_feats=flipped,
                      rng=seeded(0, 3))
    return clock.per(epochs)


def fixed_fakes(builder, real) -> torch.Tensor:
    """One fake per real image, at its label, featurised once."""
    rng = seeded(0, 3, 1)
    return torch.cat([
        builder._fake_features(real.labels[i:i + BATCH], rng)
        for i in range(0, len(real), BATCH)
    ])


def fit_fixed(feats, labels, fake_feats,
              epochs: int) -> Tuple[float, float]:
    """Seconds per epoch (wall, CPU) of the old fit: MLP steps only.

    Real sample ``i`` is paired with the fake generated at its label
    (the old code drew one of its class's fakes: the same gather).
    """
    torch.manual_seed(0)
    model = DensityRatioMLP(feats.shape[1], bu.NUM_CLASSES)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4,
                                 betas=(0.5, 0.999), weight_decay=1e-4)
    gen = torch.Generator().manual_seed(1)
    clock = Clock()
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(feats), generator=gen)
        total = 0.0
        for i in range(0, len(order), BATCH):
            idx = order[i:i + BATCH]
            y = labels[idx]
            loss = penalized_softplus_loss(model(feats[idx], y),
                                           model(fake_feats[idx], y), 0.01)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
    return clock.per(epochs)


def timed(fn, *args):
    clock = Clock()
    out = fn(*args)
    return out, clock.per(1)[0]


def profile_fresh(builder, real, feats, flipped) -> None:
    """Where one fresh epoch's time goes."""
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    fit_fresh(builder, real, feats, flipped, 1)
    profiler.disable()
    total = time.perf_counter() - start
    wanted = {
        ('subsampling.py', '_fake_features'): 'fresh fakes, all',
        ('base_conditional_gan.py', 'sample'): '  generator (gan.sample)',
        ('teacher_adapter.py', '__call__'): '  teacher (adapter)',
        ('teacher_view.py', '__call__'): '    its view (GrayToRGB)',
        ('model.py', 'forward'): 'MLP forward (real + fake)',
        ('_tensor.py', 'backward'): 'MLP backward',
        ('adam.py', 'step'): 'Adam step',
    }
    found = {}
    for (filename, _, name), row in pstats.Stats(profiler).stats.items():
        key = (osp.basename(filename), name)
        if key in wanted:
            calls, cum = found.get(key, (0, 0.0))
            found[key] = (calls + row[1], cum + row[3])
    print(f'\ncProfile of one fresh epoch ({total:.3f} s under the '
          'profiler; cumulative times):')
    rows = []
    for key, label in wanted.items():
        calls, cum = found.get(key, (0, 0.0))
        rows.append(dict(stage=label, calls=str(calls), seconds=f'{cum:.3f}',
                         share=f'{100 * cum / total:.1f}%'))
    bu.print_table(rows)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats('tottime').print_stats(8)
    print('\ntop functions by own time:')
    print('\n'.join(line for line in out.getvalue().splitlines()[6:]
                    if line.strip()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-real', type=int, default=2560)
    parser.add_argument('--epochs', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--no-profile', action='store_true')
    cfg = parser.parse_args()

    gan, adapter = build_nets()
    builder = make_builder(gan, adapter)
    gen = torch.Generator().manual_seed(0)
    real = TensorImages(
        torch.randint(0, 256, (cfg.num_real, 1, 28, 28), dtype=torch.uint8,
                      generator=gen),
        torch.arange(cfg.num_real) % bu.NUM_CLASSES)
    print('cdre_fit:', bu.host_summary())
    print(f'DCGAN (demo recipe) + VGG-8 teacher (GrayToRGB view), MLP-5 on '
          f'512-d features; {cfg.num_real} real images, batch {BATCH} '
          f'({-(-cfg.num_real // BATCH)} steps an epoch), {cfg.epochs} '
          f'epochs a measurement, {cfg.repeats} interleaved repeats')

    # one-time work of each side (also a warm-up)
    (feats, flipped), t_real = timed(builder._real_features, real, True)
    _, t_plain = timed(builder._real_features, real, False)
    fake_feats, t_fakes = timed(fixed_fakes, builder, real)
    print(f'one-time: fresh, the teacher features of the real images and '
          f'their mirrors {t_real:.2f} s; fixed, of the real images '
          f'{t_plain:.2f} s + one fake per real image, generated and '
          f'featurised, {t_fakes:.2f} s')

    fresh, fixed = [], []
    for i in range(cfg.repeats):
        for side in (('fresh', 'fixed') if i % 2 == 0 else
                     ('fixed', 'fresh')):
            if side == 'fresh':
                fresh.append(fit_fresh(builder, real, feats, flipped,
                                       cfg.epochs))
            else:
                fixed.append(fit_fixed(feats, real.labels, fake_feats,
                                       cfg.epochs))
            wall, cpu = (fresh if side == 'fresh' else fixed)[-1]
            print(f'  repeat {i}: {side} {wall:.3f} s/epoch wall, '
                  f'{cpu:.3f} s CPU, load {bu.load_average()}')
    walls = [bu.median([w for w, _ in side]) for side in (fresh, fixed)]
    cpus = [bu.median([c for _, c in side]) for side in (fresh, fixed)]
    ratio = walls[0] / walls[1]
    print('\nseconds per epoch, wall (median [min..max]):')
    print(f'  fresh fakes every step: {bu.spread([w for w, _ in fresh])}')
    print(f'  fixed fakes (old):      {bu.spread([w for w, _ in fixed])}')
    print('process CPU seconds per epoch (median [min..max]):')
    print(f'  fresh fakes every step: {bu.spread([c for _, c in fresh])}')
    print(f'  fixed fakes (old):      {bu.spread([c for _, c in fixed])}')
    print(f'fresh / fixed per epoch: {ratio:.2f} wall  '
          f'({bu.verdict(ratio, TARGET)}), {cpus[0] / cpus[1]:.2f} CPU')
    for epochs in (20, 200):  # the demo's fit, the official one
        total_fresh = t_real + epochs * walls[0]
        total_fixed = t_plain + t_fakes + epochs * walls[1]
        print(f'  a whole fit of {epochs} epochs, one-time work included: '
              f'{total_fresh / total_fixed:.2f}x')
    print(f'load average after: {bu.load_average()}')
    if not cfg.no_profile:
        profile_fresh(builder, real, feats, flipped)


if __name__ == '__main__':
    main()
