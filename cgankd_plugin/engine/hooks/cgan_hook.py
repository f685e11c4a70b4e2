# Copyright (c) cgankd_plugin contributors.
"""Train (or load) the cGAN and build the synthetic bank before training."""
import copy
import os.path as osp
from typing import Optional, Tuple, Union

from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ...datasets.synthetic_mix_dataset import (find_mix_config,
                                               find_mix_dataset)
from ...registry import DATASETS, HOOKS
from ...structures import DatasetImages
from ...synthesis.bank import SyntheticBank
from ...synthesis.builder import make_bank_builder
from ...synthesis.builder.subsampling import (dre_cache_file,
                                               subsample_settings)
from ...synthesis.conditions import bank_conditions
from ...synthesis.teacher_adapter import filter_network
from ...synthesis.teacher_filter import parse_filter_settings
from ..bank_stage import (bank_key, log_bank_figures, log_cgan_quality,
                          reuse_complete_bank, show_bank)
from ..cgan_stage_checks import check_at_least, check_before_cgan, real_set
from ..cgan_training import cgan_for_bank, load_cgan_recipe


@HOOKS.register_module()
class CGANHook(Hook):
    """cGAN-KD's data stage: cGAN -> generate -> cDR-RS -> filter -> bank.

    :class:`~cgankd_plugin.engine.runner.CGANKDRunner` calls
    :meth:`prepare_train_dataloader` just before it builds the training
    loader (MMEngine builds loaders before any hook runs). The cheap
    checks come first; then, on every rank, the cGAN recipe is trained by
    a nested Runner in ``<work_dir>/cgan`` (or ``generator_ckpt`` loaded)
    and builds the bank the ``SyntheticMixDataset`` reads (its
    ``bank_dir``, ``num_fake``), unless a complete bank with the same key
    (the cGAN's and the filter's weights, every setting) is there.

    Args:
        cgan (str | dict): The cGAN's training config: a ``configs/cgan/``
            file (relative to the working directory) or a dict of that
            shape; its real set is also cDR-RS's and the quality figure's.
        cgan_cfg_options (dict, optional): Overrides of that config, as
            ``--cfg-options`` give them (``train_cfg.max_iters=...``).
        generator_ckpt (str, optional): Trained cGAN weights (e.g. another
            run's ``cgan/iter_N.pth``): loaded instead of training.
        subsample (dict, optional): cDR-RS settings; None: off. ``burn_in``
            (fresh fakes per condition whose largest density ratio
            starts the bound ``M``; default 5000), ``flip`` (flip the
            real images at random in the fit; default True) and the fit's
            ``epochs``, ``batch_size``, ``lr``, ``penalty``,
            ``lr_decay_epochs``, ... (official defaults).
        density_ratio_cache (str, optional): A folder where fitted cDR-RS
            models are kept, named by what the fit depends on, so banks
            that differ only in filtering or relabelling fit once, and a
            build stopped after the fit (or retried with other filter
            settings) does not fit again. None: ``<work_dir>/
            density_ratio``.
        filter (dict, optional): ``quantile`` (official 0.9 classification,
            0.7 regression) or ``threshold``, ``burn_in`` per condition
            (with cDR-RS, survivors of its sampler), optionally
            ``filter_model=dict(model, checkpoint[, data_preprocessor])``,
            a stronger net than the teacher.
        relabel (str): ``'none'``, ``'hard'`` or ``'soft'``; anything but
            ``'none'`` needs ``TeacherRelabel`` in the training pipeline.
        num_label_values (int): Regression: label values in the grid the
            bank is generated on, over the real set's label range.
        label_range (tuple, optional): Regression: the (low, high) the
            cGAN's labels are normalised by (default: the dataset's
            ``metainfo['normalization_range']``).
        bank_batch_size (int): Candidates per generation round.
        seed (int): Seed of the bank (the cGAN's is its recipe's).
        max_rounds_per_condition (int): Give up after this many empty rounds.
        quality_samples (int): Real and fake images of the cGAN's quality
            figure (teacher features); 0 switches it off.
        teacher_view (list, optional): The transforms through which the
            teacher judges bank images; None: the student's test pipeline.
        overwrite_bank (bool): Replace a stale complete bank outside the
            work dir (by default the run stops: it may serve another run).
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 cgan: Union[str, dict],
                 cgan_cfg_options: Optional[dict] = None,
                 generator_ckpt: Optional[str] = None,
                 subsample: Optional[dict] = None,
                 density_ratio_cache: Optional[str] = None,
                 filter: Optional[dict] = None,
                 relabel: str = 'hard',
                 num_label_values: int = 100,
                 label_range: Optional[Tuple[float, float]] = None,
                 bank_batch_size: int = 256,
                 seed: int = 0,
                 max_rounds_per_condition: int = 100,
                 quality_samples: int = 2000,
                 teacher_view: Optional[list] = None,
                 overwrite_bank: bool = False) -> None:
        self.cgan = copy.deepcopy(cgan)
        self.cgan_cfg_options = copy.deepcopy(cgan_cfg_options)
        self.generator_ckpt = generator_ckpt
        self.density_ratio_cache = density_ratio_cache
        self.filter = parse_filter_settings(filter)
        if subsample is not None:
            subsample_settings(subsample)
        if relabel not in ('none', 'hard', 'soft'):
            raise ValueError("CGANHook.relabel must be 'none', 'hard' or "
                             f"'soft', got {relabel!r}")
        check_at_least(num_label_values=(num_label_values, 2),
                       bank_batch_size=(bank_batch_size, 1),
                       max_rounds_per_condition=(max_rounds_per_condition, 1),
                       quality_samples=(quality_samples, 0))
        # what the bank builder takes; with the rest, the bank's key
        self.build_settings = dict(
            relabel=relabel, subsample=copy.deepcopy(subsample),
            filter_quantile=self.filter.quantile,
            filter_threshold=self.filter.threshold,
            burn_in=self.filter.burn_in, batch_size=int(bank_batch_size),
            seed=int(seed),
            max_rounds_per_condition=int(max_rounds_per_condition))
        self.num_label_values = int(num_label_values)
        self.label_range = label_range
        self.quality_samples = int(quality_samples)
        self.teacher_view = copy.deepcopy(teacher_view)
        self.overwrite_bank = bool(overwrite_bank)
        self.bank: Optional[SyntheticBank] = None

    def prepare_train_dataloader(self, runner, dataloader: dict) -> dict:
        """Build the bank; a copy of ``dataloader`` whose dataset names it
        (a ``bank_dir`` of None becomes ``<work_dir>/synthetic_bank``)."""
        dataloader = copy.deepcopy(dataloader)
        mix_cfg = find_mix_config(dataloader.get('dataset'))
        if mix_cfg is None:
            raise ValueError('CGANHook: no SyntheticMixDataset in '
                             'train_dataloader.dataset')
        if mix_cfg.get('bank_dir') is None:
            mix_cfg['bank_dir'] = osp.join(runner.work_dir, 'synthetic_bank')
        self.build_bank(runner, DATASETS.build(copy.deepcopy(mix_cfg)))
        return dataloader

    def build_bank(self, runner, mix) -> Optional[SyntheticBank]:
        """Check, train or load the cGAN, build the bank ``mix`` reads."""
        recipe = load_cgan_recipe(self.cgan, self.cgan_cfg_options)
        view = check_before_cgan(runner, mix, recipe,
                                 self.build_settings['relabel'],
                                 self.generator_ckpt, self.teacher_view)
        if mix.num_fake == 0:
            runner.logger.info('CGANHook: num_fake=0, nothing to generate')
            return None
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        device = next(model.parameters()).device
        gan = cgan_for_bank(recipe, self.generator_ckpt, runner).to(device)
        conditions = bank_conditions(
            gan.is_continuous, mix.dataset.metainfo,
            num_classes=None if gan.is_continuous else mix.num_classes,
            num_label_values=self.num_label_values,
            label_range=self.label_range)
        subsample = self.build_settings['subsample']
        real = None if not (subsample or self.quality_samples) else \
            DatasetImages(real_set(recipe), gan.img_size,
                          conditions.gan_label, conditions.gan_labels.dtype)
        teacher = filter_network(model, view, self.filter.filter_model)
        settings = dict(
            self.build_settings, version=5, cgan=self.cgan,
            filter_model=self.filter.filter_model,
            teacher_view=view.settings(), num_fake=mix.num_fake,
            image_shape=[gan.img_channels, gan.img_size, gan.img_size],
            label_grid=[float(v) for v in conditions.label_grid]
            if gan.is_continuous else None)
        key, gen_hash, filter_hash = bank_key(settings, gan, teacher)
        seed, batch = (self.build_settings[k] for k in ('seed', 'batch_size'))
        rank, world_size = get_dist_info()
        if self.quality_samples and rank == 0:
            log_cgan_quality(
                runner, gen_hash, gan, teacher, real,
                num_samples=self.quality_samples, batch_size=batch,
                seed=seed, label_range=conditions.label_range or (0.0, 1.0))
        self.bank = reuse_complete_bank(runner, mix.bank_dir, key,
                                        self.overwrite_bank)
        builder = None
        if self.bank is None:
            builder = make_bank_builder(
                gan, teacher, mix.num_fake, conditions.gan_labels.to(device),
                conditions.bank_labels, **self.build_settings,
                log=runner.logger.info, rank=rank, world_size=world_size,
                dre_cache=dre_cache_file(
                    self.density_ratio_cache
                    or osp.join(runner.work_dir, 'density_ratio'), gen_hash,
                    filter_hash, view.settings(), real, subsample, seed,
                    batch) if subsample else None)
            self.bank = builder.build(mix.bank_dir, key, settings, real)
            runner.logger.info(f'CGANHook: bank of {len(self.bank)} samples '
                               f'written to {mix.bank_dir}')
        if rank == 0:
            names = None if gan.is_continuous else mix.dataset.metainfo.get(
                'classes')
            log_bank_figures(runner, self.bank, names)
            if builder is not None:  # pictures of the bank it built
                show_bank(runner, self.bank, builder, gan.is_continuous,
                          names)
        return self.bank

    def before_train(self, runner) -> None:
        """Check that the loop's dataset reads the bank this hook built."""
        mix = find_mix_dataset(runner.train_dataloader.dataset)
        if mix is None or mix.num_fake == 0:
            return
        if self.bank is None:
            raise RuntimeError(
                'CGANHook: no bank was built before the training loader: '
                "set runner_type='CGANKDRunner' (configs/_base_/cgankd/*).")
        if osp.realpath(mix.bank_dir) != osp.realpath(self.bank.path):
            raise RuntimeError(f'CGANHook built the bank at {self.bank.path}'
                               f' but the training set reads {mix.bank_dir}')
