# Copyright (c) cgankd_plugin contributors.
"""What ``CGANHook`` checks before any expensive stage, and its real set."""
import copy
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
    load_from = cfg.get('load_from')
    if load_from and not cfg.get('resume') and not osp.isfile(load_from):
        raise FileNotFoundError(
            f'load_from: {load_from!r} does not exist (the student the '
            'cGAN-KD fine-tune starts from); set load_from=None to train '
            'from scratch.')
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
