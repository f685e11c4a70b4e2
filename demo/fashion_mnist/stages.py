# Copyright (c) cgankd_plugin contributors.
"""The stages, and the ``--cfg-options`` of each one's ``tools/train.py``
run: all that differs from its config, so it can be run by hand."""
import argparse
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.runner import find_latest_checkpoint

from cgankd_plugin.engine.runner import cgan_hook_index

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TASKS = ('classification', 'rotation')
# --quick: all but the converged students' schedules at 40 %, the cGANs at
# a third of their iterations but at least 3,000 (at 1,000 the CcGAN's
# samples were 23.5 degrees off their labels to the teacher)
QUICK_SCHEDULE, QUICK_GAN_ITERS, QUICK_MIN_GAN_ITERS = 0.4, 1 / 3, 3000
SMOKE_TEST, SMOKE_TRAIN, SMOKE_GAN = 200, 64, 256  # --smoke's images
# the student's real images in the configs; --real-size N runs the rows
# on the first N instead (each fine-tune's epoch and bank scaled alike)
REAL_SIZE = 2000
# rows of a --real-size run (the curve): the real bank's pool starts
# after the configs' 2,000, so it stays out
CURVE_ROWS = ('student', 'finetune_real', 'finetune_kd', 'cgankd',
              'kd_cgankd')
# the option a needed stage's final checkpoint sets, by role ('cgan': the
# CGANHook's generator_ckpt; 'after': none, it orders the runs)
NEEDS = dict(teacher='model.teacher_ckpt', init='load_from',
             cgan='{hook}.generator_ckpt', after=None)


class Stage(NamedTuple):
    """A run: folder ``name``, table ``row`` (None: a cGAN), ``needs``
    (role -> stage); a ``shared`` one runs once (first seed), a
    ``shared_bank`` is built once (first seed) in ``<root>/banks``."""
    name: str
    task: str
    row: Optional[str]
    config: str
    needs: Dict[str, str] = {}
    shared: bool = False
    shared_bank: bool = False


def _task(task: str, sfx: str, data: str, cgan: str, kd: bool) -> list:
    """One task's stages; ``kd``: with the KD rows, the banks shared."""
    fine = dict(teacher='teacher' + sfx, init='student' + sfx)
    gan = dict(fine, cgan='cgan' + sfx)
    rows = dict(teacher=('vgg8', {}), student=('resnet8', {}),
                finetune_real=('resnet8_finetune', dict(init=fine['init'])),
                finetune_kd=('kd_logits_vgg8_resnet8', fine),
                cgankd=('cgankd_vgg8_resnet8', gan),
                kd_cgankd=('cgankd_kd_logits_vgg8_resnet8',
                           dict(gan, after='cgankd')),
                real_bank=('cgankd_realbank_vgg8_resnet8', fine))
    return [Stage('cgan' + sfx, task, None, f'configs/cgan/{cgan}.py',
                  shared=True)] + [
        Stage(row + sfx, task, row, f'configs/fashion_mnist/{config}_1xb128'
              f'_{data}.py', needs, row == 'teacher', kd and 'cgankd' in row)
        for row, (config, needs) in rows.items()
        if kd or row not in ('finetune_kd', 'kd_cgankd')
    ]


STAGES = _task('classification', '', 'fashion_mnist',
               'dcgan_1xb64_fashion_mnist', True) + _task(
                   'rotation', '_rotation', 'rotated_fashion_mnist',
                   'ccgan_1xb64_rotated_fashion_mnist', False)
BY_NAME = {stage.name: stage for stage in STAGES}


def size_dir(real_size: int = REAL_SIZE) -> str:
    """The sub-folder of a ``--real-size`` run ('' for the configs')."""
    return '' if real_size == REAL_SIZE else f'real_{real_size}'


def stage_dir(root: str, stage: Stage, seed: int,
              real_size: int = REAL_SIZE) -> str:
    """``<root>/<name>`` if shared, else ``<root>[/real_<N>]/seed_<seed>/
    <name>`` (``real_<N>``: a ``--real-size`` other than the configs')."""
    if stage.shared:
        return osp.join(root, stage.name)
    return osp.join(root, size_dir(real_size), f'seed_{seed}', stage.name)


def shared_bank_dir(root: str, stage: Stage,
                    real_size: int = REAL_SIZE) -> str:
    """Where a ``shared_bank`` stage's bank is built (first seed) and read
    (all seeds): ``<root>[/real_<N>]/banks/<name>``."""
    return osp.join(root, size_dir(real_size), 'banks', stage.name)


def selected_stages(tasks: Sequence[str] = TASKS,
                    real_size: int = REAL_SIZE) -> List[Stage]:
    """The stages of ``tasks`` (a ``--real-size`` run: its curve rows, the
    teacher and the cGAN), with what they need."""
    chosen = [s for s in STAGES if s.task in tasks and (
        real_size == REAL_SIZE or s.row is None or s.row == 'teacher'
        or s.row in CURVE_ROWS)]
    return chosen


def final_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint MMEngine's ``last_checkpoint`` names, if there."""
    path = osp.isfile(osp.join(work_dir, 'last_checkpoint')) and \
        find_latest_checkpoint(work_dir)
    return path if path and osp.isfile(path) else None


def load_config(config: str, options: Sequence[str] = ()) -> Config:
    """``config`` merged with ``options`` as ``tools/train.py`` does."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, config),
                          import_custom_modules=False)
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='*', action=DictAction)
    cfg.merge_from_dict(
        parser.parse_args(['--cfg-options', *options]).cfg_options)
    return cfg


def real_set(cfg: Config) -> str:
    """The option path of the real training set, inside any wrapper."""
    key, data = 'train_dataloader.dataset', cfg.train_dataloader.dataset
    while data.get('type') in ('SyntheticMixDataset', 'RepeatDataset',
                               'VicinalDataset'):
        key, data = key + '.dataset', data.dataset
    return key


def real_size_options(stage: Stage, cfg: Config, real_size: int,
                      share: float) -> List[str]:
    """A row's real images (``--real-size``) and its bank, the fakes a run
    draws (``share``: the part of the schedule it runs), so each fake is
    still seen once (an epoch follows the real set's size through the
    sampler's ``real_set_multiple``)."""
    options, scale = [], real_size / REAL_SIZE
    if stage.row in (None, 'teacher'):
        return options
    if real_size != REAL_SIZE:
        options.append(f'{real_set(cfg)}.indices={real_size}')
    sampler = cfg.train_dataloader.get('sampler', {})
    num_fake = cfg.train_dataloader.dataset.get('num_fake')
    if num_fake and sampler.get('real_set_multiple') and (
            scale != 1 or share != 1):
        options.append('train_dataloader.dataset.num_fake='
                       f'{round(num_fake * scale * share)}')
    return options


def size_options(stage: Stage, cfg: Config, args) -> List[str]:
    """Shorter runs: ``--quick`` all but the converged students (every
    fine-tune's start), ``--smoke`` a few iterations on a few images."""
    length = 'max_epochs' if cfg.train_cfg.get('by_epoch') else 'max_iters'
    total, share = cfg.train_cfg[length], QUICK_SCHEDULE
    if args.smoke:
        n, images = (1 if length == 'max_epochs' else 3,
                     SMOKE_TRAIN if stage.row else SMOKE_GAN)
        return [f'train_cfg.{length}={n}', f'train_cfg.val_interval={n}',
                f'default_hooks.checkpoint.interval={n}',
                'default_hooks.logger.interval=1',
                'train_dataloader.batch_size=16',
                f'{real_set(cfg)}.indices={images}'] + [
                    f'val_dataloader.dataset.indices={SMOKE_TEST}'
                ] * bool(stage.row)
    if not args.quick or stage.row == 'student':
        return []
    if stage.row is None:  # a cGAN
        n = min(total, max(QUICK_MIN_GAN_ITERS,
                           round(total * QUICK_GAN_ITERS)))
        return [f'train_cfg.max_iters={n}', 'default_hooks.checkpoint.'
                f'interval={min(n, cfg.default_hooks.checkpoint.interval)}']
    n = round(total * share)
    options = [f'train_cfg.{length}={n}', f'train_cfg.val_interval={n}',
               f'default_hooks.checkpoint.interval={n}']
    one = isinstance(cfg.param_scheduler, dict)  # the same curves, shorter
    for i, sched in enumerate([cfg.param_scheduler] if one else
                              cfg.param_scheduler):
        key = 'param_scheduler' + ('' if one else f'.{i}')
        options += [f'{key}.{k}={round(sched[k] * share)}'
                    for k in ('begin', 'end') if k in sched]
        if 'milestones' in sched:
            options.append(f'{key}.milestones=' + str(
                [round(m * share) for m in sched.milestones]).replace(' ', ''))
    return options


def stage_options(stage: Stage, root: str, args: argparse.Namespace,
                  seed: int) -> List[str]:
    """The ``--cfg-options`` of one stage (what it needs must be done),
    its ``CGANHook``'s included."""
    cfg = load_config(stage.config)
    real_size = getattr(args, 'real_size', REAL_SIZE)
    options = [f'randomness.seed={seed}'] + size_options(stage, cfg, args)
    if not args.smoke:
        options += real_size_options(stage, cfg, real_size,
                                     QUICK_SCHEDULE if args.quick else 1)
    if stage.row and stage.task == 'rotation':
        options.append('val_evaluator.errors_file=' + osp.join(
            stage_dir(root, stage, seed, real_size), 'errors.json'))
    index = cgan_hook_index(cfg.get('custom_hooks'))
    key = f'custom_hooks.{index}'
    for role, dep in stage.needs.items():
        path = final_checkpoint(
            stage_dir(root, BY_NAME[dep], seed, real_size))
        if path is None:
            raise FileNotFoundError(f'stage {dep!r} left no checkpoint')
        if NEEDS[role]:
            options.append(f'{NEEDS[role].format(hook=key)}={path}')
    if index is None:
        return options
    hook = cfg.custom_hooks[index]
    options.append(f'{key}.seed=' +
                   str(args.seeds[0] if stage.shared_bank else seed))
    if stage.shared_bank:  # built with the first seed, for all seeds
        options += [
            'train_dataloader.dataset.bank_dir=' +
            shared_bank_dir(root, stage, real_size),
            f'{key}.density_ratio_cache={root}/banks/density_ratio'
        ]
    if hook.get('subsample') and (args.quick or args.smoke):
        options.append(f'{key}.subsample=None')
    if args.smoke:
        options += [f'{key}.filter.burn_in=4', f'{key}.bank_batch_size=16',
                    f'{key}.quality_samples={min(32, hook.quality_samples)}',
                    'train_dataloader.dataset.num_fake=32']
    return options
