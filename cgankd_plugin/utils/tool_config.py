# Copyright (c) cgankd_plugin contributors.
"""What ``tools/train.py``, ``tools/test.py`` and ``tools/build_bank.py``
share: the command-line arguments of a config run, the merged config and
the runner it names.
"""
import argparse
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from ..engine.hooks import CheckpointFitHook
from ..registry import RUNNERS

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


def add_config_arguments(parser: argparse.ArgumentParser,
                         work_dir_help: str = 'the dir to save logs and '
                         'models') -> argparse.ArgumentParser:
    """Add ``config``, ``--work-dir``, ``--cfg-options``, ``--launcher``
    and ``--local-rank`` to a tool's parser.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        work_dir_help (str): What the tool writes to ``--work-dir``.

    Returns:
        argparse.ArgumentParser: ``parser``.
    """
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help=work_dir_help)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs; e.g. '
        'model.teacher_ckpt=ckpt.pth train_cfg.max_epochs=10')
    parser.add_argument(
        '--launcher', choices=LAUNCHERS, default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def parse_config_arguments(
        parser: argparse.ArgumentParser,
        argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse, and export ``LOCAL_RANK`` for MMEngine's launcher.

    Args:
        parser (argparse.ArgumentParser): A parser that went through
            :func:`add_config_arguments`.
        argv (Sequence[str], optional): The arguments (None: the command
            line).

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def load_config(args: argparse.Namespace) -> Config:
    """The config file merged with the command line.

    ``--cfg-options`` over the file; the work dir is ``--work-dir``, else
    the config's ``work_dir``, else ``./work_dirs/<config name>``. On a
    machine with a GPU the dataloaders pin memory (:func:`pin_memory`).

    Args:
        args (argparse.Namespace): From :func:`parse_config_arguments`.

    Returns:
        Config: The run's config.
    """
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    pin_memory(cfg)
    return cfg


def pin_memory(cfg: Config) -> None:
    """Pinned host memory for every dataloader, when a GPU is there.

    Batches then go to the GPU by asynchronous copies. A dataloader whose
    config sets ``pin_memory`` itself is left alone; on a machine without
    CUDA nothing changes (torch would only warn and ignore it).

    Args:
        cfg (Config): The run's config, changed in place.
    """
    import torch
    if not torch.cuda.is_available():
        return
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if isinstance(loader, dict):
            loader.setdefault('pin_memory', True)


def enable_amp(cfg: Config) -> None:
    """``--amp``: MMEngine's ``AmpOptimWrapper`` for every stage trained.

    A config with one optimiser (a student's) gets MMEngine's default,
    float16 autocast with a dynamic loss scale. A cGAN recipe (one
    optimiser per network, ``generator`` / ``discriminator``, built by
    ``SeparateOptimWrapperConstructor``) gets
    :data:`~cgankd_plugin.engine.cgan_training.CGAN_AMP` (bfloat16, no
    loss scale), whether it is the config itself or the ``cgan`` of a
    ``CGANHook`` (through the hook's ``cgan_cfg_options``).

    Args:
        cfg (Config): The run's config, changed in place.

    Raises:
        SystemExit: when no accelerator is there: MMEngine's
            ``AmpOptimWrapper`` runs on GPU, NPU, MLU or MUSA only.
    """
    import torch
    if not torch.cuda.is_available():
        raise SystemExit('--amp: MMEngine\'s AmpOptimWrapper needs a GPU '
                         '(or NPU, MLU, MUSA); this machine has none. Train '
                         'without --amp.')
    from ..engine.cgan_training import amp_options, use_amp
    optim_wrapper = cfg.optim_wrapper
    if 'optimizer' not in optim_wrapper:  # one per network: a cGAN's
        use_amp(cfg)
        return
    if optim_wrapper.get('type', 'OptimWrapper') != 'AmpOptimWrapper':
        optim_wrapper['type'] = 'AmpOptimWrapper'
        optim_wrapper.setdefault('loss_scale', 'dynamic')
    for hook in cfg.get('custom_hooks') or []:
        kind = hook.get('type')
        if getattr(kind, '__name__', str(kind)).split('.')[-1] == 'CGANHook':
            hook['cgan_cfg_options'] = amp_options(
                hook.get('cgan_cfg_options'))


def build_runner(cfg: Config):
    """The runner a config names (``runner_type``), else MMEngine's.

    As mmrazor's and mmpretrain's ``tools/train.py``: cGAN-KD configs
    name :class:`~cgankd_plugin.engine.runner.CGANKDRunner`. The runner
    gets a :class:`~cgankd_plugin.engine.hooks.CheckpointFitHook` (unless
    the config lists one), so ``load_from`` and ``tools/test.py``'s
    checkpoint load a distillation checkpoint's student into a plain model
    and refuse a checkpoint that does not fit, instead of running with
    random weights.

    Args:
        cfg (Config): The full config.

    Returns:
        Runner: The runner, built.
    """
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    if not any(isinstance(hook, CheckpointFitHook) for hook in runner.hooks):
        runner.register_hook(CheckpointFitHook())
    return runner
