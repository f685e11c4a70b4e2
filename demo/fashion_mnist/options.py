# Copyright (c) cgankd_plugin contributors.
"""The ``--cfg-options`` of every stage: seeds, sizes, dependencies.

A stage's options are all that differ from its config, so the stage can be
reproduced by hand with ``tools/train.py <config> --cfg-options ...``.
"""
import argparse
import os.path as osp
from typing import List, Optional, Sequence

from mmengine.config import Config

from cgankd_plugin.engine.hooks import cgan_hook_index

from .outputs import cgan_weights, final_checkpoint
from .stages import REPO_ROOT, STAGES_BY_NAME, Stage, stage_dir

NUM_TEST_IMAGES = 10000
# --quick: the share of every schedule (the students' alone excepted),
# and of every cGAN's iterations
QUICK_SCHEDULE = 0.4
QUICK_GAN_ITERS = 1 / 3
# ... but no fewer than these: the CcGAN at 1,000 iterations made samples
# the teacher put 23.5 degrees off their labels (6.8 at its 3,000)
QUICK_MIN_GAN_ITERS = 3000
# --smoke: a few iterations on a few images, a few hundred test images.
# The training loaders keep their workers, as in a real run.
SMOKE_TEST_IMAGES = 200
SMOKE_TRAIN_IMAGES = 64
SMOKE_GAN_IMAGES = 256
SMOKE_OPTIONS = (
    'default_hooks.logger.interval=1',
    'train_dataloader.batch_size=16',
    'val_dataloader.batch_size=100',
    f'val_dataloader.dataset.indices={SMOKE_TEST_IMAGES}',
    'val_dataloader.num_workers=0',
    'val_dataloader.persistent_workers=False',
)
SMOKE_EPOCH_OPTIONS = ('train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                       'default_hooks.checkpoint.interval=1')
SMOKE_ITER_OPTIONS = ('train_cfg.max_iters=3', 'train_cfg.val_interval=3',
                      'default_hooks.checkpoint.interval=3')
# ... and a cGAN (CGANHook options) of a few iterations making a few dozen
# samples
SMOKE_CGAN_OPTIONS = (
    'gan_iters=4',
    'gan_checkpoint_interval=2',
    'filter.burn_in=4',
    'bank_batch_size=16',
    'quality_samples=32',
)
SMOKE_NUM_FAKE = 32


# ------------------------------------------------------------- configs
def load_config(stage: Stage, options: Sequence[str] = ()) -> Config:
    """The stage's config as ``tools/train.py`` will see it."""
    # No custom imports: reading the settings needs no torch.
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, stage.config), import_custom_modules=False)
    if options:
        cfg.merge_from_dict(
            dict(option.split('=', 1) for option in options))
    return cfg


def real_dataset_key(cfg: Config) -> str:
    """The option path of the real training set (inside any wrapper)."""
    key = 'train_dataloader.dataset'
    dataset = cfg.train_dataloader.dataset
    while dataset.get('type') in ('SyntheticMixDataset', 'RepeatDataset'):
        key += '.dataset'
        dataset = dataset.dataset
    return key


def as_int(value) -> Optional[int]:
    """``value`` as an int (``--cfg-options`` values may be strings)."""
    return None if value is None else int(value)


def size_options(stage: Stage, args: argparse.Namespace) -> List[str]:
    """The options that set a stage's length.

    ``--quick`` shortens every schedule but the students' alone: the
    baseline every fine-tune starts from must be converged.
    """
    if args.quick:
        if stage.row == 'student':
            return []
        return scaled_schedule_options(load_config(stage), QUICK_SCHEDULE)
    if not args.smoke:
        return []
    base = load_config(stage)
    by_epoch = base.train_cfg.get('by_epoch', False)
    return list(SMOKE_OPTIONS) + list(
        SMOKE_EPOCH_OPTIONS if by_epoch else SMOKE_ITER_OPTIONS)


def scaled_schedule_options(cfg: Config, share: float) -> List[str]:
    """Options that shorten a config's schedule to ``share`` of it.

    The length, the validation and checkpoint intervals, and every
    parameter scheduler's ``begin`` / ``end`` / ``milestones``, so the
    learning rate follows the same curve over the shorter run.
    """

    def scaled(value) -> int:
        return max(1, int(round(int(value) * share))) if value else 0

    by_epoch = cfg.train_cfg.get('by_epoch', False)
    length = 'max_epochs' if by_epoch else 'max_iters'
    total = scaled(cfg.train_cfg[length])
    options = [
        f'train_cfg.{length}={total}', f'train_cfg.val_interval={total}',
        f'default_hooks.checkpoint.interval={total}'
    ]
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = {'param_scheduler': schedulers}
    else:
        schedulers = {
            f'param_scheduler.{i}': scheduler
            for i, scheduler in enumerate(schedulers)
        }
    for key, scheduler in schedulers.items():
        for name in ('begin', 'end'):
            if name in scheduler:
                options.append(f'{key}.{name}={scaled(scheduler[name])}')
        if 'milestones' in scheduler:
            milestones = ','.join(
                str(scaled(m)) for m in scheduler['milestones'])
            options.append(f'{key}.milestones=[{milestones}]')
    return options


def cgan_hook_key(cfg: Config) -> Optional[str]:
    """The option path of the config's ``CGANHook`` (None: it has none)."""
    index = cgan_hook_index(cfg.get('custom_hooks'))
    return None if index is None else f'custom_hooks.{index}'


def cgan_options(stage: Stage, root: str, args: argparse.Namespace,
                 seed: int, cfg: Config, hook_key: str) -> List[str]:
    """The options of a stage's ``CGANHook``: bank seed and place, sizes."""
    hook = _at(cfg, hook_key)
    bank_seed = args.seeds[0] if stage.shared_bank else seed
    options = [f'{hook_key}.seed={bank_seed}']
    if stage.shared_bank:
        banks = osp.join(root, 'banks')
        options += [
            'train_dataloader.dataset.bank_dir=' + osp.join(banks, stage.name),
            f'{hook_key}.density_ratio_cache=' +
            osp.join(banks, 'density_ratio')
        ]
    no_subsample = (
        # the cGAN stage's own bank is only a look at the samples (the
        # students' stages fit cDR-RS); --quick skips it everywhere; on a
        # few images (--smoke) a density-ratio net learns nothing and may
        # reject every sample (tests/test_synthesis checks it)
        stage.tool == 'build_bank' or args.quick
        or (args.smoke and hook.get('subsample')))
    if no_subsample:
        options.append(f'{hook_key}.subsample=None')
    if args.quick:
        iters = min(hook.gan_iters,
                    max(QUICK_MIN_GAN_ITERS,
                        int(round(hook.gan_iters * QUICK_GAN_ITERS))))
        interval = min(iters, hook.gan_checkpoint_interval)
        options += [
            f'{hook_key}.gan_iters={iters}',
            f'{hook_key}.gan_checkpoint_interval={interval}'
        ]
    if args.smoke:
        options += [f'{hook_key}.{o}' for o in SMOKE_CGAN_OPTIONS]
        options.append(f'train_dataloader.dataset.num_fake={SMOKE_NUM_FAKE}')
        if hook.get('gan_dataset'):
            options.append(f'{hook_key}.gan_dataset.indices='
                           f'{SMOKE_GAN_IMAGES}')
        if hook.gan.type == 'RealImagePool':
            options += [
                f'{hook_key}.gan.dataset.indices={SMOKE_GAN_IMAGES}',
                f'{hook_key}.gan.exclude_first={SMOKE_TRAIN_IMAGES}'
            ]
    if stage.cgan_from:
        source = STAGES_BY_NAME[stage.cgan_from]
        options.append(f'{hook_key}.generator_ckpt=' +
                       cgan_weights(stage_dir(root, source, seed)))
    return options


def _at(cfg: Config, key: str):
    """The entry of ``cfg`` at a dotted option path (list indices too)."""
    value = cfg
    for part in key.split('.'):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def stage_options(stage: Stage, root: str, args: argparse.Namespace,
                  seed: int) -> List[str]:
    """The ``--cfg-options`` of one stage."""
    base = load_config(stage)
    options = [f'randomness.seed={seed}'] + size_options(stage, args)
    if args.smoke:
        options.append(
            f'{real_dataset_key(base)}.indices={SMOKE_TRAIN_IMAGES}')
    hook_key = cgan_hook_key(base)
    if hook_key is not None:
        options += cgan_options(stage, root, args, seed, base, hook_key)
    if args.eval_split != 'test':
        options.append(f'val_dataloader.dataset.split={args.eval_split}')
    if stage.task == 'rotation' and stage.tool == 'train':
        errors = osp.join(stage_dir(root, stage, seed), 'errors.json')
        options.append(f'val_evaluator.errors_file={errors}')
    if stage.teacher:
        options.append('model.teacher_ckpt=' + dep_checkpoint(
            stage.teacher, root, seed))
    if stage.init_from:
        options.append('load_from=' +
                       dep_checkpoint(stage.init_from, root, seed))
    for option in args.cfg_options:
        name, _, option = option.partition(':')
        if name == stage.name:
            options.append(option)
    return options


def dep_checkpoint(name: str, root: str, seed: int) -> str:
    """The final checkpoint of the stage ``name`` (of this seed)."""
    work_dir = stage_dir(root, STAGES_BY_NAME[name], seed)
    checkpoint = final_checkpoint(work_dir)
    if checkpoint is None:
        raise FileNotFoundError(f'stage {name!r} left no checkpoint in '
                                f'{work_dir}')
    return checkpoint


def describe_training_data(cfg: Config) -> str:
    """The table's "training data" cell, read from the config."""
    dataset = cfg.train_dataloader.dataset
    fake, times = None, 1
    while dataset.get('type') in ('SyntheticMixDataset', 'RepeatDataset'):
        if dataset.type == 'SyntheticMixDataset':
            fake = as_int(dataset.num_fake)
        else:
            times = as_int(dataset.times)
        dataset = dataset.dataset
    indices = as_int(dataset.get('indices'))
    real = ('all 55,000 training images'
            if indices is None else f'first {indices:,} training images')
    if times > 1:
        real += f' x {times}'
    return real if fake is None else f'{real} + {fake:,} fake'
