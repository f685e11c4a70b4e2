# Copyright (c) cgankd_plugin contributors.
"""One cGAN training step: ours (Runner API) vs the official cGAN-KD code.

Usage::

    git clone https://github.com/UBCDingXin/cGAN-KD /tmp/cgankd_official
    .venv/bin/python benchmarks/official_cgan_step.py \\
        --official /tmp/cgankd_official [--width N] [--batch-size N]
        [--d-steps N] [--repeats N] [--small] [--official-unshared]
        [--no-flops] [--device cpu|cuda] [--json FILE]

``--official`` is the root of a checkout of ``UBCDingXin/cGAN-KD`` (or
its ``CIFAR-100/BigGAN`` folder). Nothing of it lives in this
repository: its modules are imported from that path at run time.

One step, on both sides, is ``--d-steps`` discriminator updates and one
generator update (and the EMA update of the generator), on batches of
``--batch-size`` real images and as many fakes, hinge losses, DiffAugment
``color,translation,cutout``, Adam (lr 2e-4, betas (0, 0.999)), at 32 px
with 100 classes, ``dim_z`` 128, width ``--width`` (``G_ch`` = ``D_ch``):

* ``ours``: ``ClassConditionalGAN`` as ``configs/_base_/cgankd/
  cifar100_biggan.py`` builds it (``BigGANGenerator``,
  ``ProjectionDiscriminator``, ``discriminator_steps`` =
  ``--d-steps``), trained through MMEngine's Runner API:
  ``--d-steps`` calls of ``gan.train_step(batch, optim_wrapper)``, each
  with a collated batch of uint8 samples (what the Runner's dataloader
  hands over) and an ``OptimWrapperDict`` built by
  ``mmengine.optim.build_optim_wrapper``; the ``MessageHub``'s ``iter``
  tells it when the generator's turn has come;
* ``official``: the ``train`` closure of
  ``train_fns.GAN_training_function``, called as the loop of ``train.py``
  calls it, with one float batch of ``d_steps * batch_size`` images it
  splits itself.

Where the official pieces live (paths in ``UBCDingXin/cGAN-KD``, tested
at commit 8fcb1176):

* ``CIFAR-100/BigGAN/scripts/launch_cifar100_ema.sh``: the CIFAR-100
  run's settings (batch 512, ``--num_D_steps 4``, lr 2e-4 for both, no
  attention, ``N02`` init, EMA from iteration 1000, DiffAugment
  ``color,translation,cutout``; ``G_ch`` / ``D_ch`` stay at their
  default 64). Its arguments are parsed here by the official
  ``utils.prepare_parser()``, with our batch, D steps and width;
* ``CIFAR-100/BigGAN/utils.py``: the parser and its defaults,
  ``imsize_dict`` / ``nclass_dict`` / ``activation_dict``,
  ``prepare_z_y``, ``ema``, ``toggle_grad``;
* ``CIFAR-100/BigGAN/BigGAN.py``: ``Generator`` / ``Discriminator``
  (``G_arch`` / ``D_arch`` at 32 px), ``G_D`` (G then D, with
  DiffAugment);
* ``CIFAR-100/BigGAN/layers.py``: ``SNConv2d``, ``SNLinear``,
  ``SNEmbedding``, ``ccbn``, ``bn``, ``GBlock``, ``DBlock``;
* ``CIFAR-100/BigGAN/train_fns.py``: ``GAN_training_function``, the
  step; ``CIFAR-100/BigGAN/losses.py``: the hinge losses;
* ``CIFAR-100/BigGAN/train.py``: how ``run()`` builds G, D, the EMA G,
  ``G_D``, ``z_`` / ``y_`` and calls the step.

Differences that remain:

* class conditioning in G: ours always has BigGAN's shared class
  embedding (128-d) feeding spectrally normalised linear maps to each
  conditional batch norm's gain and bias; the official CIFAR-100 script
  leaves ``G_shared`` off (each conditional batch norm has its own plain
  ``nn.Embedding`` tables). By default the official G is built with
  ``--G_shared --shared_dim 128``, the same layers as ours;
  ``--official-unshared`` builds the script's own setting instead;
* ours applies G's 1x1 shortcut conv before upsampling and D's 1x1
  shortcut conv after pooling in every block (the same maps, fewer
  FLOPs); the official code does the opposite in G and in D's
  pre-activated blocks;
* spectral norm: ours is ``torch.nn.utils.parametrizations.
  spectral_norm`` (one power iteration per training forward); the
  official one is its own ``layers.SN`` (one singular value, one
  iteration, ``SN_eps`` 1e-8);
* data: ours gets ``--d-steps`` collated batches of uint8 CHW tensors
  and casts them in ``ConditionalGANDataPreprocessor`` (inside the timed
  step); the official step gets floats in [-1, 1] (its DataLoader
  normalises them). Loading itself is left out of both; the batches are
  built once before timing and reused;
* the script's ``--parallel`` (``nn.DataParallel``) is left out.

``--device cuda`` runs both sides on the GPU (the official networks are
moved there before its EMA is set up, as its ``train.py`` does; its
batch is put there once before timing, ours goes there inside each step
as a Runner's does); each timed step ends with
``torch.cuda.synchronize()``, and the peak GPU memory of the process
(both sides) is printed. ``--json FILE`` also writes the figures there
(``benchmarks/gpu_check.py`` reads them).

Both EMAs are still in their copy phase (start at iteration 1000), as
at the start of a run. One torch thread. The two sides alternate (ours,
official, official, ours, ...) for ``--repeats`` repeats after one
warm-up step each (run under ``FlopCounterMode`` to count the FLOPs of a
step, unless ``--no-flops``; for that count only, the official
``utils.Distribution`` noise tensor, a Tensor subclass its activations
inherit, is made to hand out plain tensors, which changes no op; the
timed steps run the official code as it is). The parameters of G and D
are counted on both sides (equal by default). The ratio is the median
over repeats of ours / official. Target: ours <= 1.0x official.
"""
import argparse
import contextlib
import importlib
import importlib.machinery
import importlib.util
import io
import json
import os.path as osp
import sys
import time
import types
import warnings
from typing import (Callable, ContextManager, Dict, Iterator, List,
                    Optional)

import _bench_utils as bu
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapperDict, build_optim_wrapper
from mmengine.structures import BaseDataElement

from cgankd_plugin.registry import MODELS

GAN_CONFIG = osp.join(bu.REPO_ROOT, 'configs', 'cgan',
                      'biggan_1xb512_cifar100.py')
NUM_CLASSES = 100
OFFICIAL_SUBDIR = osp.join('CIFAR-100', 'BigGAN')
# top-level names the official BigGAN folder imports its files under
OFFICIAL_MODULES = ('utils', 'layers', 'losses', 'train_fns', 'BigGAN',
                    'datasets', 'animal_hash', 'sync_batchnorm',
                    'DiffAugment_pytorch')
SMALL = dict(width=16, batch_size=16, repeats=3)
FULL = dict(width=64, batch_size=50, repeats=5)
TARGET = 1.0


def official_dir(path: str) -> str:
    """The official CIFAR-100 BigGAN folder in a cGAN-KD checkout.

    Args:
        path (str): the checkout's root, or its ``CIFAR-100/BigGAN``.

    Returns:
        str: The absolute path of the folder holding ``BigGAN.py``.
    """
    for candidate in (osp.join(path, OFFICIAL_SUBDIR), path):
        if all(
                osp.isfile(osp.join(candidate, name))
                for name in ('BigGAN.py', 'train_fns.py', 'utils.py')):
            return osp.abspath(candidate)
    raise SystemExit(f'no {OFFICIAL_SUBDIR}/BigGAN.py under {path!r}: '
                     '--official takes a checkout of UBCDingXin/cGAN-KD')


def _no_progress_bar(*args, **kwargs):
    raise RuntimeError('tqdm is not installed')


def import_official(directory: str) -> types.SimpleNamespace:
    """Import the official ``utils``, ``train_fns`` and ``BigGAN``.

    Their files import each other by bare names (``import layers``), so
    the folder goes on ``sys.path`` while they are imported.

    Args:
        directory (str): the official CIFAR-100 BigGAN folder.

    Returns:
        types.SimpleNamespace: ``utils``, ``train_fns`` and ``BigGAN``.
    """
    for name in OFFICIAL_MODULES:
        module = sys.modules.get(name)
        where = getattr(module, '__file__', None) or ''
        if module is not None and not where.startswith(directory):
            raise SystemExit(f'a module {name!r} is already imported (from '
                             f'{where or "?"}); the official code needs '
                             'that name')
    importlib.import_module('torchvision')  # before any stand-in below
    if importlib.util.find_spec('tqdm') is None:
        # datasets.py imports tqdm for the progress bars of its folder
        # datasets, which a training step never shows
        stand_in = types.ModuleType('tqdm')
        stand_in.__spec__ = importlib.machinery.ModuleSpec('tqdm', None)
        stand_in.tqdm = stand_in.trange = _no_progress_bar
        sys.modules['tqdm'] = stand_in
    sys.path.insert(0, directory)
    try:
        modules = {
            name: importlib.import_module(name)
            for name in ('utils', 'train_fns', 'BigGAN')
        }
    finally:
        sys.path.remove(directory)
    return types.SimpleNamespace(**modules)


def official_config(official: types.SimpleNamespace, width: int,
                    batch_size: int, d_steps: int, shared_dim: int,
                    shared: bool) -> dict:
    """The official config: the CIFAR-100 script's arguments, parsed.

    Args:
        official (types.SimpleNamespace): the official modules.
        width (int): ``G_ch`` and ``D_ch``.
        batch_size (int): ``batch_size``.
        d_steps (int): ``num_D_steps``.
        shared_dim (int): ``shared_dim`` when ``shared``.
        shared (bool): whether G has a shared class embedding.

    Returns:
        dict: The config dict, completed as ``train.run`` completes it.
    """
    argv = [
        '--dataset', 'C100', '--batch_size', str(batch_size),
        '--num_G_accumulations', '1', '--num_D_accumulations', '1',
        '--num_D_steps', str(d_steps), '--G_lr', '2e-4', '--D_lr', '2e-4',
        '--G_ortho', '0.0', '--G_attn', '0', '--D_attn', '0', '--G_init',
        'N02', '--D_init', 'N02', '--ema', '--use_ema', '--ema_start',
        '1000', '--DiffAugment_policy', 'color,translation,cutout',
        '--G_ch', str(width), '--D_ch', str(width)
    ]
    if shared:
        argv += ['--G_shared', '--shared_dim', str(shared_dim)]
    utils = official.utils
    config = vars(utils.prepare_parser().parse_args(argv))
    config['resolution'] = utils.imsize_dict[config['dataset']]
    config['n_classes'] = utils.nclass_dict[config['dataset']]
    config['G_activation'] = utils.activation_dict[config['G_nl']]
    config['D_activation'] = utils.activation_dict[config['D_nl']]
    return config


class OursSide:
    """Our cGAN, stepped through ``train_step`` as a Runner steps it.

    Args:
        width (int): ``base_channels`` of G and D.
        d_steps (int): ``discriminator_steps``.
        images (torch.Tensor): (d_steps * B, 3, 32, 32) uint8 images.
        labels (torch.Tensor): their (d_steps * B,) classes.
        device (str): Where the cGAN runs (the batches stay on the CPU,
            as a dataloader hands them over).
    """

    def __init__(self, width: int, d_steps: int, images: torch.Tensor,
                 labels: torch.Tensor, device: str = 'cpu') -> None:
        recipe = Config.fromfile(GAN_CONFIG)
        cfg = recipe.model.to_dict()
        cfg['generator']['base_channels'] = width
        cfg['discriminator']['base_channels'] = width
        cfg['discriminator_steps'] = d_steps
        torch.manual_seed(0)
        self.gan = MODELS.build(cfg).to(device)
        self.wrappers = OptimWrapperDict(**{
            name: build_optim_wrapper(
                getattr(self.gan, name),
                dict(type='OptimWrapper',
                     optimizer=recipe.optim_wrapper[name].optimizer))
            for name in ('generator', 'discriminator')
        })
        batch = images.size(0) // d_steps
        self.batches = [
            _collate(images[i:i + batch], labels[i:i + batch])
            for i in range(0, images.size(0), batch)
        ]
        self.hub = MessageHub.get_instance('official_cgan_step')
        self.iteration = 0

    @property
    def networks(self) -> Dict[str, torch.nn.Module]:
        return dict(G=self.gan.generator, D=self.gan.discriminator)

    def counting(self) -> ContextManager:
        """What the FLOP count of a step runs in: nothing special."""
        return contextlib.nullcontext()

    def step(self) -> None:
        """``d_steps`` Runner iterations: D each, then G and the EMA."""
        for batch in self.batches:
            self.hub.update_info('iter', self.iteration)
            self.gan.train_step(batch, self.wrappers)
            self.iteration += 1


class OfficialSide:
    """The official BigGAN, stepped by its own training function.

    Args:
        official (types.SimpleNamespace): the official modules.
        config (dict): from :func:`official_config`.
        images (torch.Tensor): (d_steps * B, 3, 32, 32) uint8 images.
        labels (torch.Tensor): their (d_steps * B,) classes.
        device (str): Where the networks and the batch go.
    """

    def __init__(self, official: types.SimpleNamespace, config: dict,
                 images: torch.Tensor, labels: torch.Tensor,
                 device: str = 'cpu') -> None:
        model, utils = official.BigGAN, official.utils
        torch.manual_seed(0)
        log = io.StringIO()
        with contextlib.redirect_stdout(log):
            # on the device before the EMA reads their state dicts
            self.G = model.Generator(**config).to(device)
            self.D = model.Discriminator(**config).to(device)
            self.G_ema = model.Generator(**{
                **config, 'skip_init': True,
                'no_optim': True
            }).to(device)
            ema = utils.ema(self.G, self.G_ema, config['ema_decay'],
                            config['ema_start'])
            pair = model.G_D(
                G=self.G,
                D=self.D,
                DiffAugment_policy=config['DiffAugment_policy'])
        for line in log.getvalue().splitlines():
            if line.strip():
                print(f'  [official] {line.strip()}')
        g_batch = max(config['G_batch_size'], config['batch_size'])
        z_, y_ = utils.prepare_z_y(
            g_batch, self.G.dim_z, config['n_classes'], device=device)
        self.noise_type = type(z_)
        self.state = dict(itr=0, epoch=0, config=config)
        self.train = official.train_fns.GAN_training_function(
            self.G, self.D, pair, z_, y_, ema, self.state, config)
        self.images = (images.float() / 127.5 - 1.0).to(device)
        self.labels = labels.long().to(device)

    @property
    def networks(self) -> Dict[str, torch.nn.Module]:
        return dict(G=self.G, D=self.D)

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        """Plain tensors while FLOPs are counted.

        ``z_`` is a ``utils.Distribution`` (a Tensor subclass whose
        ``to`` returns a new one); torch's default ``__torch_function__``
        makes G's activations that subclass too, which the decompositions
        ``FlopCounterMode`` runs cannot handle. Switched off for the count
        only: it changes no op, so no FLOP; the timed steps keep it.
        """
        cls = self.noise_type
        own = '__torch_function__' in vars(cls)
        saved = vars(cls).get('__torch_function__')
        cls.__torch_function__ = torch._C._disabled_torch_function_impl
        try:
            yield
        finally:
            if own:
                cls.__torch_function__ = saved
            else:
                del cls.__torch_function__

    def step(self) -> None:
        """One iteration of ``train.py``'s loop (logging left out)."""
        self.state['itr'] += 1
        self.G.train()
        self.D.train()
        self.G_ema.train()
        self.train(self.images, self.labels)


def _collate(images: torch.Tensor, labels: torch.Tensor) -> dict:
    """A collated batch as the Runner's dataloader hands it over."""
    samples = []
    for i in range(images.size(0)):
        sample = BaseDataElement()
        sample.gt_label = labels[i:i + 1]
        samples.append(sample)
    return dict(inputs=list(images), data_samples=samples)


def count_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def synchronize() -> None:
    """Wait for the GPU's queued work (nothing on the CPU)."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def timed(step: Callable[[], None]) -> float:
    synchronize()
    start = time.perf_counter()
    step()
    synchronize()
    return time.perf_counter() - start


def warm_up(side, flops: bool) -> Optional[int]:
    """Run one step; count its FLOPs when asked and possible.

    Args:
        side (OursSide | OfficialSide): the side to step.
        flops (bool): whether to run it under ``FlopCounterMode``.

    Returns:
        int, optional: The FLOPs of the step, or None.
    """
    if flops:
        try:
            from torch.utils.flop_counter import FlopCounterMode
            counter = FlopCounterMode(display=False)
            with side.counting(), counter:
                side.step()
            return int(counter.get_total_flops())
        except Exception as error:  # the count is optional
            print(f'  FlopCounterMode failed ({error!r}); plain warm-up')
    side.step()
    return None


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--official',
        required=True,
        help='root of a UBCDingXin/cGAN-KD checkout')
    parser.add_argument(
        '--width', type=int, help=f'G_ch = D_ch (default {FULL["width"]})')
    parser.add_argument(
        '--batch-size',
        type=int,
        help=f'batch per D / G update (default {FULL["batch_size"]})')
    parser.add_argument(
        '--d-steps', type=int, default=4, help='D updates per G update')
    parser.add_argument(
        '--repeats',
        type=int,
        help=f'timed steps per side (default {FULL["repeats"]})')
    parser.add_argument(
        '--small',
        action='store_true',
        help='a quick check: width {width}, batch {batch_size}, '
        '{repeats} repeats unless given'.format(**SMALL))
    parser.add_argument(
        '--official-unshared',
        action='store_true',
        help='official G without a shared class embedding, as its '
        'CIFAR-100 script (ours always has one)')
    parser.add_argument(
        '--no-flops',
        action='store_true',
        help='skip the FLOP count of the warm-up step')
    parser.add_argument(
        '--device',
        default='cpu',
        help='where both sides run: cpu (default) or cuda')
    parser.add_argument(
        '--json', help='also write the figures to this JSON file')
    args = parser.parse_args()
    defaults = SMALL if args.small else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if min(args.width, args.batch_size, args.d_steps, args.repeats) < 1:
        parser.error('--width, --batch-size, --d-steps and --repeats must '
                     'be >= 1')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: no CUDA device here')
    return args


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)
    # the official DiffAugment calls torch.meshgrid without indexing=
    warnings.filterwarnings('ignore', message='torch.meshgrid')
    directory = official_dir(args.official)
    official = import_official(directory)
    print(bu.host_summary())
    print(f'official code: {directory}')
    print(f'setting: device {args.device}, width {args.width}, batch '
          f'{args.batch_size}, '
          f'{args.d_steps} D steps per G step, {args.repeats} repeats, '
          f'official G shared embedding '
          f'{"off" if args.official_unshared else "on"}')

    count = args.d_steps * args.batch_size
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(
        0, 256, (count, 3, 32, 32), dtype=torch.uint8, generator=gen)
    labels = torch.randint(0, NUM_CLASSES, (count, ), generator=gen)
    ours = OursSide(args.width, args.d_steps, images, labels, args.device)
    config = official_config(official, args.width, args.batch_size,
                             args.d_steps,
                             ours.gan.generator.shared_embedding.embedding_dim,
                             not args.official_unshared)
    theirs = OfficialSide(official, config, images, labels, args.device)
    sides = dict(ours=ours, official=theirs)

    rows = []
    for net in ('G', 'D'):
        mine = count_params(ours.networks[net])
        other = count_params(theirs.networks[net])
        rows.append(
            dict(
                params=net,
                ours=f'{mine:,}',
                official=f'{other:,}',
                ratio=f'{mine / other:.4f}'))
    bu.print_table(rows)

    print(f'warm-up (load average {bu.load_average()}):')
    flops = {}
    for name, side in sides.items():
        start = time.perf_counter()
        flops[name] = warm_up(side, not args.no_flops)
        print(f'  {name}: {time.perf_counter() - start:.3f} s')
    if all(flops.values()):
        print(f'FLOPs per step: ours {flops["ours"] / 1e9:.2f} G, '
              f'official {flops["official"] / 1e9:.2f} G, ours/official '
              f'{flops["ours"] / flops["official"]:.4f}')

    times: Dict[str, List[float]] = {name: [] for name in sides}
    order = ['ours', 'official']
    for repeat in range(args.repeats):
        for name in (order if repeat % 2 == 0 else order[::-1]):
            times[name].append(timed(sides[name].step))
        print(f'  repeat {repeat}: ours {times["ours"][-1]:.3f} s/step, '
              f'official {times["official"][-1]:.3f} s/step, '
              f'ours/official '
              f'{times["ours"][-1] / times["official"][-1]:.3f}, '
              f'load average {bu.load_average()}')
    bu.print_table([
        dict(side=name, seconds_per_step=bu.spread(t))
        for name, t in times.items()
    ])
    pairwise = bu.median(
        [a / b for a, b in zip(times['ours'], times['official'])])
    medians = bu.median(times['ours']) / bu.median(times['official'])
    print(f'load after: {bu.load_average()}')
    print(f'ratio of medians ours / official = {medians:.3f}')
    print(f'RATIO ours / official (pairwise median) = {pairwise:.3f} '
          f'({bu.verdict(pairwise, TARGET)})')
    peak = None
    if args.device.startswith('cuda'):
        peak = torch.cuda.max_memory_allocated() / 2**20
        print(f'peak GPU memory allocated (both sides, one process): '
              f'{peak:.0f} MiB')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(
                dict(
                    device=args.device,
                    width=args.width,
                    batch_size=args.batch_size,
                    d_steps=args.d_steps,
                    repeats=args.repeats,
                    seconds_per_step=times,
                    flops_per_step=flops,
                    ratio_pairwise=pairwise,
                    ratio_of_medians=medians,
                    peak_memory_mib=peak),
                f,
                indent=1)


if __name__ == '__main__':
    main()
