# Copyright (c) cgankd_plugin contributors.
"""What ``CGANHook`` checks before any expensive stage, and its real set."""
import copy
import glob
import inspect
import os.path as osp
from typing import Optional

from mmengine.config import Config

from ..registry import DATASETS, MODELS
from ..structures import image_of
from ..synthesis.bank import check_bank_dir
from ..synthesis.teacher_view import TeacherView, check_view_sizes
from .cgan_training import is_trainable


def check_at_least(**settings) -> None:
    """Refuse ``CGANHook.<name>`` below its least value.

    Args:
        **settings (tuple): ``name=(value, least)``.
    """
    for name, (value, least) in settings.items():
        if isinstance(value, bool) or not isinstance(
                value, int) or value < least:
            raise ValueError(f'CGANHook.{name} must be an integer >= '
                             f'{least}, got {value!r}')


def _config_that_writes(path: str) -> Optional[str]:
    """The config whose default work dir holds ``path``, if one exists.

    ``tools/train.py CONFIG`` writes to ``work_dirs/<config name>/``, so
    ``work_dirs/resnet8x4_cifar100/epoch_240.pth`` is written by a config
    named ``resnet8x4_cifar100.py``; it is looked for in ``configs/`` (not
    in ``_base_/``) of the working directory, then of the plugin's
    checkout.
    """
    parts = osp.normpath(path).split(osp.sep)
    if 'work_dirs' not in parts[:-2]:
        return None
    name = parts[parts.index('work_dirs') + 1] + '.py'
    plugin_root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(
        __file__))))
    for root in ('.', plugin_root):
        found = sorted(
            path for path in glob.glob(
                osp.join(root, 'configs', '**', name), recursive=True)
            if '_base_' not in path.split(osp.sep))
        if found:
            return osp.relpath(found[0], root)
    return None


def check_load_from(cfg: Config) -> None:
    """Refuse a ``load_from`` that does not exist, naming what writes it.

    A cGAN-KD fine-tune starts from the converged no-KD student. Called by
    ``CGANKDRunner.from_cfg``, before the model (and the teacher) is
    built, so a missing student stops the run at once. ``load_from=None``
    trains from scratch; with ``resume`` the check is left to the resume.

    Args:
        cfg (Config): The student's config.

    Raises:
        FileNotFoundError: ``load_from`` names no file.
    """
    load_from = cfg.get('load_from')
    if not load_from or cfg.get('resume') or osp.isfile(load_from):
        return
    maker = _config_that_writes(load_from)
    how = (f'train it first with `python tools/train.py {maker}`, which '
           'writes it there, or pass' if maker else 'pass')
    raise FileNotFoundError(
        f'load_from: {load_from!r} does not exist. cGAN-KD fine-tunes the '
        f'converged no-KD student: {how} --cfg-options load_from=<its '
        'checkpoint>, or load_from=None to train the student from '
        'scratch.')


def _dataset_pipeline(dataset: dict):
    """The first ``pipeline`` down a dataset config's wrappers."""
    while isinstance(dataset, dict):
        if dataset.get('pipeline') is not None:
            return dataset['pipeline']
        dataset = dataset.get('dataset')
    return None


def teacher_view(pipeline, cfg: Config) -> TeacherView:
    """``pipeline`` (``CGANHook.teacher_view``), else the test pipeline."""
    if pipeline is not None:
        if not isinstance(pipeline, (list, tuple)):
            raise TypeError('CGANHook.teacher_view must be a list of '
                            f'transform configs, got {pipeline!r}')
        return TeacherView(pipeline, 'CGANHook.teacher_view')
    for loader in ('test_dataloader', 'val_dataloader'):
        pipeline = _dataset_pipeline((cfg.get(loader) or {}).get('dataset'))
        if pipeline is not None:
            return TeacherView(pipeline, f'{loader}.dataset.pipeline')
    raise ValueError('CGANHook.teacher_view: the config has no test or '
                     'validation pipeline to show bank images to the '
                     'teacher as the student is judged; give teacher_view.')


def _model_field(model_cfg: dict, name: str):
    """A field of the cGAN config, or its class's default."""
    if name in model_cfg:
        return model_cfg[name]
    cls = MODELS.get(model_cfg['type'])
    param = inspect.signature(cls).parameters.get(name)
    return None if param is None else param.default


def real_set(recipe: Config):
    """The real images the cGAN learns from (cDR-RS's and quality's)."""
    if not is_trainable(recipe):
        cfg = recipe.model['dataset']
    else:
        cfg = recipe.train_dataloader['dataset']
        if str(cfg['type']).split('.')[-1] == 'VicinalDataset':
            cfg = cfg['dataset']
    return DATASETS.build(copy.deepcopy(cfg))


def check_before_cgan(runner, mix, recipe: Config, relabel: str,
                      generator_ckpt: Optional[str],
                      view_pipeline: Optional[list]) -> TeacherView:
    """Every cheap check, each refusal naming its key; returns the view.

    Args:
        runner (Runner): The student's runner (its config).
        mix (SyntheticMixDataset): The training set.
        recipe (Config): The cGAN's training config.
        relabel (str): ``CGANHook.relabel``.
        generator_ckpt (str, optional): ``CGANHook.generator_ckpt``.
        view_pipeline (list, optional): ``CGANHook.teacher_view``.

    Returns:
        TeacherView: How the teacher sees bank images.
    """
    cfg = runner.cfg
    transforms = getattr(mix.pipeline, 'transforms', mix.pipeline) or []
    names = {(t['type'] if isinstance(t, dict) else type(t).__name__)
             for t in transforms}
    if relabel != 'none' and not any(
            str(n).split('.')[-1] == 'TeacherRelabel' for n in names):
        raise ValueError(
            f"CGANHook.relabel={relabel!r} but the pipeline of "
            'train_dataloader.dataset has no TeacherRelabel: the fake '
            "samples would train on their generating labels. Add "
            "dict(type='mmrazor.TeacherRelabel') before the packing "
            "transform, or set CGANHook.relabel='none'.")
    check_bank_dir(mix.bank_dir, 'train_dataloader.dataset.bank_dir')
    if generator_ckpt and not osp.isfile(generator_ckpt):
        raise FileNotFoundError(f'CGANHook.generator_ckpt: '
                                f'{generator_ckpt!r} does not exist')
    model = recipe.model
    classes = _model_field(model, 'num_classes')
    if classes is not None and classes != mix.num_classes:
        raise ValueError(
            f'CGANHook.cgan: model.num_classes={classes} but the training '
            f'set has {mix.num_classes} classes')
    view = teacher_view(view_pipeline, cfg)
    info = mix.dataset.get_data_info(0)
    shape = (_model_field(model, 'img_channels'),
             _model_field(model, 'img_size'), _model_field(model, 'img_size'))
    check_view_sizes(view, shape, dict(info, img=image_of(info)),
                     train_pipeline=mix.pipeline,
                     size_key='CGANHook.cgan model.img_size')
    runner.logger.info('CGANHook: the teacher sees bank images through '
                       f'{view.source} ({view.describe()})')
    return view
