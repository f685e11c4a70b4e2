# Copyright (c) cgankd_plugin contributors.
"""Train a cGAN recipe (a ``configs/cgan/`` config) by a nested Runner.

The recipe is an ordinary MMEngine config that ``tools/train.py`` also
trains alone; ``CGANHook`` trains it in ``<work_dir>/cgan`` on every rank.
``recipe.json`` there records the recipe and its length: a finished cGAN
is reused for the same recipe, resumed to a longer ``max_iters``, and
anything else stops the run.
"""
import contextlib
import copy
import json
import os
import os.path as osp
import random
import uuid
from typing import Iterator, Optional, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dist import barrier, broadcast, get_rank
from mmengine.logging import MessageHub, MMLogger
from mmengine.model import is_model_wrapper
from mmengine.registry import DefaultScope
from mmengine.runner import Runner, find_latest_checkpoint
from mmengine.visualization import Visualizer

from ..registry import MODELS
from ..utils.atomic_io import atomic_write_json, read_json
from ..utils.checkpoint import load_weights_strictly
from .cpu_distributed import use_cpu_model_wrapper

RECORD = 'recipe.json'
PLUGIN_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# loader settings that change the speed, not the cGAN a recipe trains
_LOADER_KNOBS = ('num_workers', 'persistent_workers', 'pin_memory',
                 'prefetch_factor')
_RECIPE_KEYS = ('model', 'optim_wrapper', 'param_scheduler', 'randomness',
                'train_dataloader')
# What ``--amp`` makes of each optimiser wrapper of a cGAN recipe:
# bfloat16 autocast without a loss scale. float16 is unstable with
# spectral norm: its power iteration (run in half precision by CUDA
# autocast) overflows, and sigma and the u / v vectors underflow (the
# networks' Float32SpectralNorm keeps that part in float32 anyway). And
# float16 needs a loss scale, whose overflow check reads the device at
# every step. bfloat16 has float32's range, so it needs neither.
CGAN_AMP = dict(
    type='AmpOptimWrapper', dtype='bfloat16', loss_scale=dict(enabled=False))
_NETWORKS = ('generator', 'discriminator')


def load_cgan_recipe(cgan: Union[str, dict],
                     cfg_options: Optional[dict] = None) -> Config:
    """The cGAN's training config, with ``cfg_options`` merged in.

    Args:
        cgan (str | dict): A ``configs/cgan/`` file (relative to the
            working directory, else to the plugin's checkout) or a dict of
            that shape.
        cfg_options (dict, optional): Overrides, as ``--cfg-options``
            give them (dotted keys or nested dicts).

    Returns:
        Config: The recipe.

    Raises:
        ValueError: Naming ``CGANHook.cgan`` and the missing or bad key.
    """
    if isinstance(cgan, str):
        path = cgan
        if not osp.isfile(path) and not osp.isabs(path):
            # the plugin's own configs/, from any working directory
            path = osp.join(PLUGIN_ROOT, cgan)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'CGANHook.cgan: no cGAN config at {cgan!r}, relative to '
                f'the working directory or to {PLUGIN_ROOT}')
        recipe = Config.fromfile(path)
    elif isinstance(cgan, dict):
        recipe = Config(copy.deepcopy(dict(cgan)))
    else:
        raise TypeError('CGANHook.cgan must be a configs/cgan/ file or a '
                        f'config dict, got {type(cgan).__name__}')
    if cfg_options:
        recipe.merge_from_dict(copy.deepcopy(dict(cfg_options)))
    if not recipe.get('model'):
        raise ValueError('CGANHook.cgan: the cGAN config has no model')
    if not is_trainable(recipe):
        return recipe
    for key in ('train_dataloader', 'optim_wrapper', 'train_cfg'):
        if not recipe.get(key):
            raise ValueError(f'CGANHook.cgan: the cGAN config has no {key}')
    max_iters = recipe.train_cfg.get('max_iters')
    if isinstance(max_iters, bool) or not isinstance(
            max_iters, int) or max_iters < 1:
        raise ValueError(
            'CGANHook.cgan: train_cfg.max_iters (Runner iterations of the '
            f'cGAN) must be a positive integer, got {max_iters!r}')
    return recipe


def use_amp(recipe: Config) -> None:
    """Make a cGAN recipe's optimiser wrappers :data:`CGAN_AMP` ones.

    Args:
        recipe (Config): A ``configs/cgan/`` config, changed in place.
    """
    for name in _NETWORKS:
        recipe.optim_wrapper[name].update(copy.deepcopy(CGAN_AMP))


def amp_options(cfg_options: Optional[dict]) -> dict:
    """``CGANHook.cgan_cfg_options`` that also make the recipe use AMP.

    Args:
        cfg_options (dict, optional): The hook's options.

    Returns:
        dict: A copy with :data:`CGAN_AMP` for both networks, as dotted
        keys after the others, so they are merged last.
    """
    options = copy.deepcopy(dict(cfg_options or {}))
    for name in _NETWORKS:
        for key, value in CGAN_AMP.items():
            options.pop(f'optim_wrapper.{name}.{key}', None)
            options[f'optim_wrapper.{name}.{key}'] = copy.deepcopy(value)
    return options


def is_trainable(recipe: Config) -> bool:
    """Whether the recipe's model trains (a ``RealImagePool`` does not)."""
    return getattr(MODELS.get(recipe.model['type']), 'trainable', True)


def build_cgan(recipe: Config) -> nn.Module:
    """The recipe's cGAN, untrained, with its initial weights."""
    gan = MODELS.build(copy.deepcopy(recipe.model))
    gan.init_weights()
    return gan


def _recipe_content(recipe: Config) -> dict:
    """What decides the trained cGAN, apart from its length (JSON)."""
    content = {k: recipe.get(k) for k in _RECIPE_KEYS}
    loader = dict(content['train_dataloader'])
    for knob in _LOADER_KNOBS:
        loader.pop(knob, None)
    content['train_dataloader'] = loader
    return json.loads(json.dumps(content, sort_keys=True, default=str))


def _check_record(record: dict, content: dict, max_iters: int,
                  work_dir: str) -> None:
    if record['recipe'] != content:
        changed = sorted(k for k in content
                         if record['recipe'].get(k) != content[k])
        raise ValueError(
            f'CGANHook.cgan: {work_dir} holds a cGAN trained from another '
            f'recipe ({", ".join(changed)} differ from the config\'s). '
            'Use another work_dir, remove that folder, or give the trained '
            'weights as CGANHook.generator_ckpt.')
    if record['finished'] and record['max_iters'] > max_iters:
        raise ValueError(
            f'CGANHook.cgan: the cGAN in {work_dir} was trained for '
            f'{record["max_iters"]} iterations but train_cfg.max_iters is '
            f'{max_iters}: set max_iters to {record["max_iters"]} to reuse '
            'it, or use another work_dir to train a shorter one.')


@contextlib.contextmanager
def outer_runner_state() -> Iterator[None]:
    """Keep MMEngine's current instances and the random states.

    A Runner built inside another makes its logger, message hub,
    visualizer and scope current, reseeds every generator and may switch
    cuDNN's benchmark mode on: afterwards its instances are dropped and
    the outer run finds all as they were.
    """
    managers = (MMLogger, MessageHub, Visualizer, DefaultScope)
    order = {m: list(m._instance_dict) for m in managers}
    python_state, numpy_state = random.getstate(), np.random.get_state()
    benchmark = torch.backends.cudnn.benchmark
    try:
        with torch.random.fork_rng(
                devices=range(torch.cuda.device_count())):
            yield
    finally:
        for manager, names in order.items():
            instances = manager._instance_dict
            for name in [n for n in instances if n not in names]:
                for handler in getattr(instances[name], 'handlers', []):
                    handler.close()
                del instances[name]
            for name in names:
                instances.move_to_end(name)
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        torch.backends.cudnn.benchmark = benchmark


def train_cgan(recipe: Config, work_dir: str, launcher: str, env_cfg: dict,
               logger) -> nn.Module:
    """Train the recipe's cGAN in ``work_dir`` (or reuse a finished one).

    Every rank calls it. A killed training resumes from its last
    checkpoint (MMEngine's ``resume``).

    Args:
        recipe (Config): From :func:`load_cgan_recipe`.
        work_dir (str): The cGAN's folder (``<work_dir>/cgan``).
        launcher (str): The student's launcher (``'none'``, ``'pytorch'``).
        env_cfg (dict): The student's ``env_cfg`` (same processes), but
            for ``cudnn_benchmark``, which is the recipe's.
        logger (MMLogger): Where the stage's lines go.

    Returns:
        nn.Module: The trained cGAN, unwrapped, on the Runner's device.
    """
    max_iters = recipe.train_cfg.max_iters
    content = _recipe_content(recipe)
    path = osp.join(work_dir, RECORD)
    record = read_json(path) if osp.isfile(path) else None
    if record is not None:
        _check_record(record, content, max_iters, work_dir)
        if record['finished'] and record['max_iters'] == max_iters:
            gan = build_cgan(recipe)
            load_weights_strictly(gan, record['checkpoint'],
                                  f'the finished cGAN in {work_dir}')
            logger.info(f'CGANHook: the cGAN trained in {work_dir} '
                        f'({max_iters} iterations) is reused')
            return gan
        logger.info(f'CGANHook: resuming the cGAN in {work_dir} to '
                    f'{max_iters} iterations')
    if get_rank() == 0:
        os.makedirs(work_dir, exist_ok=True)
        atomic_write_json(
            path, dict(recipe=content, max_iters=max_iters, finished=False))
    cfg = copy.deepcopy(recipe)
    # its own instance names (a dict config's are its start second, which
    # another Runner may share)
    cfg.merge_from_dict(
        dict(work_dir=work_dir, launcher=launcher, resume=True,
             load_from=None, experiment_name=f'cgan_{uuid.uuid4().hex}'))
    benchmark = (recipe.get('env_cfg') or {}).get('cudnn_benchmark', False)
    cfg.env_cfg = dict(copy.deepcopy(env_cfg), cudnn_benchmark=benchmark)
    if launcher != 'none':
        use_cpu_model_wrapper(cfg)
    with outer_runner_state():
        runner = Runner.from_cfg(cfg)
        runner.train()
        gan = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        checkpoint = find_latest_checkpoint(work_dir)
        del runner
    # DDP keeps each rank's buffers (BatchNorm statistics): all take rank 0's
    for tensor in gan.state_dict().values():
        broadcast(tensor, 0)
    if get_rank() == 0:
        atomic_write_json(
            path,
            dict(recipe=content, max_iters=max_iters, finished=True,
                 checkpoint=checkpoint))
    barrier()
    return gan


def cgan_for_bank(recipe: Config, generator_ckpt: Optional[str],
                  runner) -> nn.Module:
    """The cGAN the bank is drawn from: loaded, trained or untrainable.

    Args:
        recipe (Config): From :func:`load_cgan_recipe`.
        generator_ckpt (str, optional): ``CGANHook.generator_ckpt``.
        runner (Runner): The student's runner (``work_dir``, launcher,
            ``env_cfg``, logger).

    Returns:
        nn.Module: The cGAN in eval mode.
    """
    if generator_ckpt or not is_trainable(recipe):
        gan = build_cgan(recipe)  # RealImagePool: real images, no training
        if generator_ckpt:
            load_weights_strictly(gan, generator_ckpt,
                                  'CGANHook.generator_ckpt')
            runner.logger.info(f'CGANHook: cGAN loaded from {generator_ckpt}')
    else:
        gan = train_cgan(recipe, osp.join(runner.work_dir, 'cgan'),
                         runner.launcher, runner.cfg.get('env_cfg', {}),
                         runner.logger)
    return gan.eval()
