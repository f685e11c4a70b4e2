# Copyright (c) cgankd_plugin contributors.
"""The steps of cGAN-KD's data stage on one rank, as ``CGANHook`` runs them.

Rank 0 builds the cGAN, trains (or loads) it, reports its quality, keys
the bank and builds it (its share, when the ranks split the build); the
other ranks' part and the signals between the ranks are the hook's.
"""
import copy
import os.path as osp
from typing import Optional

import numpy as np
import torch
from mmengine.model import is_model_wrapper

from ..datasets.synthetic_mix_dataset import SyntheticMixDataset
from ..registry import DATASETS, MODELS
from ..structures import DatasetImages, RealImages, image_of
from ..synthesis.bank import (BankStaleError, SyntheticBank, hash_settings,
                              hash_state_dict)
from ..synthesis.builder import BaseBankBuilder, make_bank_builder
from ..synthesis.builder.subsampling import dre_cache_file
from ..synthesis.conditions import BankConditions, bank_conditions
from ..synthesis.gan_quality import cached_gan_quality
from ..synthesis.gan_training import GANTrainer
from ..synthesis.teacher_adapter import filter_network
from ..synthesis.teacher_view import TeacherView, check_view_sizes
from ..synthesis.visualize import save_bank_pictures
from ..utils.atomic_io import atomic_write_json
from ..utils.checkpoint import load_weights_strictly


class CGANStageMixin:
    """What ``CGANHook`` does on one rank, on the hook's settings.

    The settings (``gan_cfg``, ``subsample``, ``filter_quantile``, ...) are
    the hook's (:class:`~cgankd_plugin.engine.hooks.CGANHook` documents
    them); so are ``stage_dir``, ``quality_file`` and ``poll_seconds``.
    """

    def _teacher_view(self, mix: SyntheticMixDataset) -> TeacherView:
        if self.teacher_view_cfg is not None:
            return TeacherView(self.teacher_view_cfg, 'CGANHook.teacher_view')
        return TeacherView(mix.pipeline,
                           'the training pipeline (train_dataloader)')

    def _checked_view(self, mix: SyntheticMixDataset, gan) -> TeacherView:
        """The teacher's view, refused if fake and real would differ."""
        view = self._teacher_view(mix)
        info = mix.dataset.get_data_info(0)
        real = dict(info, img=image_of(info))
        check_view_sizes(
            view, (gan.img_channels, gan.img_size, gan.img_size), real,
            train_pipeline=mix.pipeline
            if self.teacher_view_cfg is None else None)
        return view

    def _gan_dataset(self, mix: SyntheticMixDataset):
        if self.gan_dataset_cfg is None:
            return mix.dataset
        return DATASETS.build(copy.deepcopy(self.gan_dataset_cfg))

    def _settings(self, mix, real_shape, num_conditions,
                  view: TeacherView) -> dict:
        return dict(
            # 2: burn-in recycled, rounds sized on the need; 3: the teacher
            # judges the student's view, regression cDR-RS pairs each real
            # image with fakes of its own label and keeps one M per label
            version=3,
            teacher_view=view.settings(),
            gan_dataset=self.gan_dataset_cfg,
            num_fake=mix.num_fake,
            image_shape=list(real_shape),
            num_conditions=num_conditions,
            # no gan_iters: the generator's weights are hashed into the
            # key, so a bank made from loaded weights (generator_ckpt) is
            # the bank of the run that trained them
            gan=self.gan_cfg,
            subsample=self.subsample,
            filter_quantile=self.filter_quantile,
            filter_threshold=self.filter_threshold,
            filter_model=self.filter_model_cfg,
            burn_in=self.burn_in,
            relabel=self.relabel,
            num_label_values=self.num_label_values,
            label_range=self.label_range,
            bank_batch_size=self.bank_batch_size,
            seed=self.seed)

    @staticmethod
    def _unwrapped(runner):
        return runner.model.module if is_model_wrapper(
            runner.model) else runner.model

    def _build_gan(self, device):
        """The cGAN with its seeded initial weights."""
        # the cGAN's initial weights depend on the seed alone, not on what
        # else drew from torch's global generator before (the model, the
        # dataloader, the number of processes)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            gan = MODELS.build(copy.deepcopy(self.gan_cfg))
            gan.init_weights()
        return gan.to(device)

    def _conditions(self, gan, mix: SyntheticMixDataset) -> BankConditions:
        """The bank's conditions, as the cGAN takes them and as stored."""
        if not gan.is_continuous:
            gan.check_compatible(num_classes=mix.num_classes)
        return bank_conditions(
            gan.is_continuous, mix.dataset.metainfo,
            num_classes=None if gan.is_continuous else mix.num_classes,
            num_label_values=self.num_label_values,
            label_range=self.label_range)

    def _dre_cache_file(self, generator_hash: str, filter_hash: str,
                        view: TeacherView,
                        real: RealImages) -> Optional[str]:
        """Where a cDR-RS model fitted for this build is cached, if any."""
        if self.density_ratio_cache is None or self.subsample is None:
            return None
        return dre_cache_file(self.density_ratio_cache, generator_hash,
                              filter_hash, view.settings(), real,
                              self.subsample, self.seed,
                              self.bank_batch_size)

    def _builder(self, runner, gan, adapter, mix, conditions, device,
                 rank: int = 0, world_size: int = 1,
                 dre_cache: Optional[str] = None) -> BaseBankBuilder:
        return make_bank_builder(
            gan, adapter, mix.num_fake, conditions.gan_labels.to(device),
            conditions.bank_labels, relabel=self.relabel,
            subsample=self.subsample, filter_quantile=self.filter_quantile,
            filter_threshold=self.filter_threshold, burn_in=self.burn_in,
            batch_size=self.bank_batch_size, seed=self.seed,
            max_rounds_per_condition=self.max_rounds,
            log=runner.logger.info, rank=rank, world_size=world_size,
            session=str(runner.timestamp), poll_seconds=self.poll_seconds,
            dre_cache=dre_cache)

    def _prepare_bank(self,
                      runner,
                      mix: SyntheticMixDataset,
                      start_signal: Optional[str] = None,
                      world_size: int = 1) -> None:
        """Rank 0: the cGAN, then the bank (its share of it when split).

        Args:
            runner (Runner): The runner.
            mix (SyntheticMixDataset): The training set.
            start_signal (str, optional): Where to tell the other ranks to
                join the build (distributed runs).
            world_size (int): The number of ranks.
        """
        model = self._unwrapped(runner)
        device = next(model.parameters()).device
        gan = self._build_gan(device)
        regression = bool(gan.is_continuous)
        conditions = self._conditions(gan, mix)
        view = self._checked_view(mix, gan)
        runner.logger.info(f'CGANHook: the teacher sees bank images through '
                           f'{view.describe()}')
        # read a batch at a time: only the labels of the set are kept
        real = DatasetImages(
            self._gan_dataset(mix), gan.img_size, conditions.gan_label,
            torch.float32 if regression else torch.long)
        gan.check_compatible(img_size=gan.img_size,
                             img_channels=real.channels)
        work = self.stage_dir(runner.work_dir)
        if self.generator_ckpt:
            load_weights_strictly(gan, self.generator_ckpt,
                                  'CGANHook.generator_ckpt')
            runner.logger.info(f'CGANHook: cGAN loaded from '
                               f'{self.generator_ckpt}')
            weights = self.generator_ckpt
        elif self.gan_trainer == 'runner':
            raise RuntimeError(
                "CGANHook.gan_trainer='runner': the cGAN is trained by "
                'CGANKDRunner.from_cfg before the runner is built, which '
                "gives the hook its weights; run with runner_type="
                "'CGANKDRunner' (tools/train.py), or set "
                "gan_trainer='hook'.")
        elif not getattr(gan, 'trainable', True):
            # e.g. RealImagePool: real images in a cGAN's place
            runner.logger.info(f'CGANHook: {type(gan).__name__} has '
                               'nothing to train')
            weights = None
        else:
            trainer = GANTrainer(gan, self.gan_optimizers, self.gan_iters,
                                 self.gan_batch_size,
                                 self.gan_checkpoint_interval, work,
                                 self.seed, runner.logger)
            trainer.run(real, real.labels)
            weights = trainer.final_path
        adapter = filter_network(model, view, self.filter_model_cfg)
        generator_hash = hash_state_dict(gan.state_dict())
        filter_hash = hash_state_dict(adapter.model.state_dict())
        self._report_quality(
            runner, gan, adapter, real, generator_hash,
            label_range=conditions.label_range or (0.0, 1.0))
        settings = self._settings(mix, real.shape[1:],
                                  len(conditions), view)
        if regression:
            settings['label_grid'] = [float(v)
                                      for v in conditions.label_grid]
        key = hash_settings(
            dict(
                settings=hash_settings(settings),
                generator=generator_hash,
                filter_net=filter_hash))
        bank_dir = mix.bank_dir
        if SyntheticBank.is_complete(bank_dir):
            try:
                SyntheticBank.open(bank_dir, expected_key=key, verify=True)
                runner.logger.info(f'CGANHook: the bank at {bank_dir} is '
                                   'complete and matches; reusing it')
                return
            except BankStaleError as err:
                self._check_may_replace(runner, bank_dir, err)
                runner.logger.warning(f'CGANHook: rebuilding the bank: {err}')
        if world_size > 1:
            atomic_write_json(
                start_signal,
                dict(key=key, generator=generator_hash,
                     filter_net=filter_hash,
                     generator_weights=weights and osp.abspath(weights)))
            runner.logger.info(f'CGANHook: building the bank with '
                               f'{world_size} ranks')
        dre_cache = self._dre_cache_file(generator_hash, filter_hash, view,
                                         real)
        builder = self._builder(runner, gan, adapter, mix, conditions, device,
                                0, world_size, dre_cache)
        bank = builder.build(bank_dir, key, settings, real)
        self.regenerated = True
        runner.logger.info(
            f'CGANHook: bank of {len(bank)} samples written to {bank_dir} '
            f'(acceptance rate {bank.meta.get("acceptance_rate")}, '
            f'{bank.meta.get("build_seconds")} s)')
        self._visualize(runner, bank, builder, regression)

    def _check_may_replace(self, runner, bank_dir: str,
                           err: BankStaleError) -> None:
        """Refuse to replace a finished bank another run may be reading."""
        work_dir = osp.realpath(runner.work_dir)
        inside = osp.commonpath([work_dir, osp.realpath(bank_dir)
                                 ]) == work_dir
        if inside or self.overwrite_bank:
            return
        raise BankStaleError(
            f'CGANHook: the complete bank at {bank_dir}, outside this run\'s '
            f'work dir, was built from other weights or settings ({err}). '
            'It may serve another run, so it is not replaced: point '
            'train_dataloader.dataset.bank_dir elsewhere, remove the old '
            'bank, or set CGANHook.overwrite_bank=True.')

    def _report_quality(self, runner, gan, adapter, real: RealImages,
                        generator_hash: str, label_range) -> None:
        """Log the cGAN's quality figure (computed once per generator)."""
        if not self.quality_samples:
            return
        quality = cached_gan_quality(
            self.quality_file(runner.work_dir), generator_hash, gan, adapter,
            real, num_samples=self.quality_samples,
            batch_size=self.bank_batch_size, seed=self.seed,
            label_range=label_range)
        figures = ', '.join(f'{k}={v:.4f}' for k, v in quality.items()
                            if k not in ('generator', 'version'))
        runner.logger.info('CGANHook: cGAN quality (teacher features, not '
                           f'Inception): {figures}')

    @staticmethod
    def _visualize(runner, bank: SyntheticBank, builder: BaseBankBuilder,
                   regression: bool) -> None:
        out = osp.join(runner.work_dir, 'cgankd_vis')
        grid, hist = save_bank_pictures(bank.images,
                                        np.asarray(bank.cond_labels),
                                        builder.filter_summary(), out,
                                        regression)
        visualizer = getattr(runner, 'visualizer', None)
        if visualizer is not None:
            visualizer.add_image('cgankd_bank_samples', grid)
            visualizer.add_image('cgankd_filter_histogram', hist)
        runner.logger.info(f'CGANHook: sample grid and filter histogram in '
                           f'{out}')
