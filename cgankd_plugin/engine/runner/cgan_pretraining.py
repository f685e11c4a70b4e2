# Copyright (c) cgankd_plugin contributors.
"""Train a config's cGAN with MMEngine's Runner before the student's runner.

What ``CGANKDRunner.from_cfg`` does for a ``CGANHook`` with
``gan_trainer='runner'``: the cGAN the hook describes (``gan``,
``gan_iters``, ``gan_batch_size``, ``gan_optimizers``,
``gan_checkpoint_interval``, ``seed``) is trained by a Runner of its own,
on every rank (each network in its own DDP wrapper), from the real set
streamed by that Runner's dataloader, with MMEngine's checkpoints,
``resume``, logs, scalars and ETA in ``<work_dir>/cgan/runner``. Its
weights then go to the hook as ``generator_ckpt``, so the rest of the
stage (quality, bank) is that of two-stage use. The student's runner is
built afterwards, so MMEngine's current logger and message hub are its
own again.
"""
import copy
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.dist import barrier, get_rank
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from ...datasets.synthetic_mix_dataset import find_mix_config
from ...models.generators import ContinuousConditionalGAN
from ...registry import HOOKS, MODELS
from ...utils.atomic_io import atomic_torch_save
from ..hooks.cgan_hook import CGANHook, cgan_hook_index


def _real_set_config(cfg: Config, hook: CGANHook, img_size: int) -> dict:
    """The real images the cGAN learns from, as the bank stores them.

    The hook's ``gan_dataset`` or the real part of the training set, read
    as :class:`~cgankd_plugin.structures.DatasetImages` reads it for the
    in-hook trainer: the raw image (loaded when it is a path),
    resized to the cGAN's square size, packed as uint8.
    """
    if hook.gan_dataset_cfg is not None:
        real = copy.deepcopy(hook.gan_dataset_cfg)
    else:
        mix = find_mix_config(cfg.train_dataloader.get('dataset'))
        if mix is None:
            raise ValueError('CGANHook needs a SyntheticMixDataset in '
                             'train_dataloader.dataset.')
        real = copy.deepcopy(mix['dataset'])
    real['pipeline'] = [
        dict(type='mmrazor.LoadImageUnlessGiven'),
        dict(type='mmpretrain.Resize', scale=(img_size, img_size)),
        dict(type='mmpretrain.PackInputs'),
    ]
    return real


def _sampling(hook: CGANHook, gan, real: dict) -> dict:
    """The dataset and samplers of the cGAN's dataloader.

    A class-conditional cGAN reads the real set shuffled; a CcGAN reads it
    at the vicinal draws of ``VicinalBatchSampler``, with the model's
    vicinity settings and the hook's seed and ``label_range``.
    """
    if not isinstance(gan, ContinuousConditionalGAN):
        return dict(
            dataset=real, sampler=dict(type='InfiniteSampler', shuffle=True))
    settings = {
        name: hook.gan_cfg[name]
        for name in ('vicinity', 'kappa', 'sigma', 'soft_weight_threshold')
        if name in hook.gan_cfg
    }
    return dict(
        dataset=dict(
            type='VicinalDataset', dataset=real,
            label_range=hook.label_range),
        sampler=dict(type='DefaultSampler', shuffle=False),
        batch_sampler=dict(
            type='VicinalBatchSampler', seed=hook.seed, **settings))


def gan_runner_config(cfg: Config, hook: CGANHook, gan) -> Config:
    """The Runner config that trains ``hook``'s cGAN for ``cfg``'s run.

    Args:
        cfg (Config): The student's config (``work_dir``, ``launcher``,
            ``env_cfg`` and the training set are read from it).
        hook (CGANHook): The hook, built from its config entry.
        gan (BaseConditionalGAN): ``hook.gan_cfg`` built (its resolved
            ``discriminator_steps`` and ``img_size`` are read).

    Returns:
        Config: A config for MMEngine's ``Runner``.
    """
    steps = int(gan.discriminator_steps)
    optimizers = hook.gan_optimizers
    loader = cfg.train_dataloader
    wrapper = dict(type='MMSeparateDistributedDataParallel',
                   broadcast_buffers=False, find_unused_parameters=False)
    if not torch.cuda.is_available():
        wrapper['device_ids'] = None  # CPU modules take no device ids
    return Config(
        dict(
            default_scope='mmrazor',
            work_dir=osp.join(hook.stage_dir(cfg.work_dir), 'runner'),
            launcher=cfg.get('launcher', 'none'),
            env_cfg=copy.deepcopy(cfg.get('env_cfg', {})),
            randomness=dict(seed=hook.seed),
            model=dict(
                copy.deepcopy(hook.gan_cfg),
                data_preprocessor=dict(
                    type='ConditionalGANDataPreprocessor'),
                train_seed=hook.seed),
            model_wrapper_cfg=wrapper,
            train_dataloader=dict(
                batch_size=hook.gan_batch_size,
                num_workers=loader.get('num_workers', 0),
                persistent_workers=loader.get('persistent_workers', False),
                collate_fn=dict(type='default_collate'),
                **_sampling(hook, gan,
                            _real_set_config(cfg, hook, int(gan.img_size)))),
            optim_wrapper=dict(
                constructor='SeparateOptimWrapperConstructor',
                generator=dict(
                    type='OptimWrapper',
                    optimizer=copy.deepcopy(optimizers['generator'])),
                discriminator=dict(
                    type='OptimWrapper',
                    optimizer=copy.deepcopy(optimizers['discriminator']))),
            # a Runner iteration is one discriminator update
            train_cfg=dict(by_epoch=False, max_iters=hook.gan_iters * steps),
            default_hooks=dict(
                timer=dict(type='IterTimerHook'),
                logger=dict(
                    type='LoggerHook',
                    interval=min(100, max(1, hook.gan_iters * steps))),
                param_scheduler=dict(type='ParamSchedulerHook'),
                checkpoint=dict(
                    type='AtomicCheckpointHook',
                    by_epoch=False,
                    interval=hook.gan_checkpoint_interval * steps,
                    max_keep_ckpts=2),
                sampler_seed=dict(type='DistSamplerSeedHook')),
            log_processor=dict(by_epoch=False),
            # a killed run continues from its last checkpoint
            resume=True,
            load_from=None))


def pretrain_gan(cfg: Config) -> Optional[str]:
    """Train the cGAN of ``cfg``'s ``CGANHook`` by a Runner, if it asks.

    Every rank calls it. Does nothing unless the hook has
    ``gan_trainer='runner'`` and no ``generator_ckpt``. Weights a finished
    earlier run left (:meth:`CGANHook.trained_weights`) are used as they
    are; otherwise the Runner trains (resuming from its last checkpoint)
    and rank 0 writes them. The hook's ``generator_ckpt`` is then set to
    them in ``cfg``.

    Args:
        cfg (Config): The student's config (changed in place).

    Returns:
        str, optional: The cGAN weights, None when nothing was to train.
    """
    index = cgan_hook_index(cfg.get('custom_hooks'))
    entry = None if index is None else cfg.custom_hooks[index]
    if entry is None or entry.get('gan_trainer', 'hook') != 'runner' \
            or entry.get('generator_ckpt'):
        return None
    hook = HOOKS.build(copy.deepcopy(entry))
    gan = MODELS.build(copy.deepcopy(hook.gan_cfg))
    if not getattr(gan, 'trainable', True):
        return None  # e.g. RealImagePool: nothing to train
    if not cfg.get('work_dir'):
        raise ValueError("CGANHook.gan_trainer='runner' needs the config's "
                         'work_dir (tools/train.py sets it).')
    weights = hook.trained_weights(cfg.work_dir)
    if not osp.isfile(weights):
        runner = Runner.from_cfg(gan_runner_config(cfg, hook, gan))
        runner.train()
        if get_rank() == 0:
            gan = runner.model.module if is_model_wrapper(
                runner.model) else runner.model
            atomic_torch_save(dict(state_dict=gan.state_dict()), weights)
        barrier()
    entry['generator_ckpt'] = weights
    return weights
