# Copyright (c) cgankd_plugin contributors.
"""Train (or load) the cGAN and build the synthetic bank before training."""
import copy
import os
import os.path as osp
from typing import Optional, Tuple

import numpy as np
import torch
from mmengine.dist import barrier, get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ...datasets.synthetic_mix_dataset import (SyntheticMixDataset,
                                               find_mix_dataset)
from ...registry import DATASETS, HOOKS, MODELS
from ...synthesis.bank import (BankStaleError, SyntheticBank, check_bank_dir,
                               hash_settings, hash_state_dict)
from ...synthesis.bank_staging import BankStaging, StagingFailure
from ...synthesis.builder import BaseBankBuilder, make_bank_builder
from ...synthesis.builder.subsampling import dre_cache_file
from ...synthesis.conditions import BankConditions, bank_conditions
from ...synthesis.gan_quality import cached_gan_quality
from ...synthesis.gan_training import GANTrainer
from ...synthesis.real_data import image_of, load_real_images
from ...synthesis.teacher_adapter import filter_network
from ...synthesis.teacher_view import TeacherView, check_view_sizes
from ...synthesis.teacher_filter import parse_filter_settings
from ...synthesis.visualize import save_bank_pictures
from ...utils.atomic_io import atomic_write_json, read_json
from ...utils.checkpoint import load_weights_strictly
from ...utils.heartbeat import Heartbeat, WatchHeartbeat, wait_for_file
from ...utils.shared_storage import check_shared_storage
from ..train_loader_restart import restart_train_loader_workers


@HOOKS.register_module()
class CGANHook(Hook):
    """cGAN-KD's data stage: cGAN -> generate -> subsample -> filter.

    Before training, unless a complete bank with the same key (hash of
    generator weights, filtering-network weights and every setting below)
    already exists: trains the cGAN on the real training set (or loads
    ``generator_ckpt``), then builds the bank that the training set's
    ``SyntheticMixDataset`` reads. The bank's path and size live on that
    dataset (``bank_dir``, ``num_fake``); everything else lives here.

    Under distributed training the bank build is split over the ranks and
    the bank is byte for byte the one a single process makes. Rank 0 alone
    trains (or loads) the cGAN and decides whether to build; the other
    ranks wait for a file (``cgan/bank_ready_<timestamp>.json``: nothing
    to build, ``cgan/bank_build_<timestamp>.json``: build), never in a
    collective, so hours of cGAN training cannot hit a process-group
    timeout. On ``bank_build`` every rank loads the weights rank 0 names,
    checks that its cGAN and filtering network hash as rank 0's, and draws
    its share (:mod:`cgankd_plugin.synthesis.builder`: how the draws are
    split and seeded), handing it to rank 0 through the staging folder
    (:mod:`cgankd_plugin.synthesis.bank_staging`); rank 0 writes the bank
    and ``bank_ready``. A killed build resumes with any number of ranks.

    Args:
        gan (dict): Config of a ``ClassConditionalGAN`` or
            ``ContinuousConditionalGAN``.
        gan_iters (int): cGAN training iterations.
        gan_batch_size (int): cGAN batch size.
        gan_optimizers (dict): ``generator`` / ``discriminator`` optimizer
            configs (torch optimizers).
        gan_checkpoint_interval (int): Save the cGAN every this many
            iterations (resumable).
        generator_ckpt (str, optional): Load these cGAN weights instead of
            training.
        subsample (dict, optional): cDR-RS settings, None to switch it off
            (see :func:`~cgankd_plugin.synthesis.builder.make_bank_builder`).
        density_ratio_cache (str, optional): A folder for fitted cDR-RS
            models, each named by a hash of what its fit depends on (the
            generator's and the teacher's weights, the real images and
            labels, the teacher's view, ``subsample``, ``seed`` and
            ``bank_batch_size``). A build finding its model there loads it
            instead of fitting, and makes the same bank; so students whose
            banks differ only in filtering or relabelling (cGAN-KD and KD +
            cGAN-KD) fit cDR-RS once. None: every build fits its own.
        filter (dict): ``quantile`` (in (0, 1], official 0.9 for
            classification and 0.7 for regression) or ``threshold``;
            ``burn_in`` samples per condition; optionally ``filter_model``:
            ``dict(model=<ImageClassifier config>, checkpoint=<path>,
            data_preprocessor=<config>)``, a stronger net than the teacher.
        relabel (str): ``'none'``, ``'hard'`` or ``'soft'`` (classification).
        num_label_values (int): Regression: label values in the grid the
            bank is generated on, evenly spaced over the real set's
            ``metainfo['label_range']`` (else the normalisation range), ends
            included: 60 gives the ages 1, 2, ..., 60 of UTKFace.
        label_range (tuple, optional): Regression: the (low, high) range
            labels are normalised by for the cGAN; defaults to the real
            dataset's ``metainfo['normalization_range']``.
        bank_batch_size (int): Candidates per generation round.
        seed (int): Seed of the cGAN training and of the bank.
        max_rounds_per_condition (int): Give up after this many rounds in a
            row that accept nothing.
        quality_samples (int): Real and fake images for the cGAN's quality
            figure, logged when the cGAN stage ends: the Frechet distance of
            the teacher's features (not Inception's) and the teacher's
            agreement with the generating labels. 0 switches it off.
        teacher_view (list, optional): The transforms that show a bank
            image to the teacher as the student will see it. None (the
            default) takes the deterministic part of the training
            pipeline (its random augmentations, loading, relabelling and
            packing left out); give it (e.g. the test pipeline) where a
            random transform sets the student's image size. Every teacher
            pass of the build (filter, relabel, cDR-RS features, quality)
            sees this view; a view in which fake and real images differ in
            size is refused before the cGAN trains.
        gan_dataset (dict, optional): The real set the cGAN (and cDR-RS)
            trains on, e.g. the teacher's whole training set; None: the
            real part of the ``SyntheticMixDataset`` (the student's).
        overwrite_bank (bool): Replace a complete bank at a ``bank_dir``
            outside this run's work dir when it was built from other
            weights or settings. Such a bank may serve another run (several
            students can share one bank), so by default the run stops
            with an error instead; a stale bank inside the work dir (this
            run's own) is always rebuilt, with a warning.
        wait_timeout (float): Distributed runs: how many seconds the other
            ranks wait without a sign of life from rank 0 (its progress
            lines beat a heartbeat file in ``<work_dir>/cgan``) before they
            stop with an error. The ``work_dir`` must be on storage every
            rank sees.
    """

    priority = 'VERY_HIGH'
    # how often a rank looks for the file it waits for (distributed runs)
    poll_seconds = 2.0

    def __init__(self,
                 gan: dict,
                 gan_iters: int = 20000,
                 gan_batch_size: int = 64,
                 gan_optimizers: Optional[dict] = None,
                 gan_checkpoint_interval: int = 1000,
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
                 gan_dataset: Optional[dict] = None,
                 overwrite_bank: bool = False,
                 wait_timeout: float = 1800.0) -> None:
        self.gan_cfg = copy.deepcopy(gan)
        self.gan_iters = int(gan_iters)
        self.gan_batch_size = int(gan_batch_size)
        self.gan_optimizers = gan_optimizers or dict(
            generator=dict(type='Adam', lr=2e-4, betas=(0.0, 0.999)),
            discriminator=dict(type='Adam', lr=2e-4, betas=(0.0, 0.999)))
        self.gan_checkpoint_interval = int(gan_checkpoint_interval)
        self.generator_ckpt = generator_ckpt
        self.subsample = copy.deepcopy(subsample)
        self.density_ratio_cache = density_ratio_cache
        (self.filter_quantile, self.filter_threshold, self.burn_in,
         self.filter_model_cfg) = parse_filter_settings(filter)
        if relabel not in ('none', 'hard', 'soft'):
            raise ValueError("CGANHook.relabel must be 'none', 'hard' or "
                             f"'soft', got {relabel!r}")
        self.relabel = relabel
        self.num_label_values = int(num_label_values)
        self.label_range = label_range
        self.bank_batch_size = int(bank_batch_size)
        self.seed = int(seed)
        self.max_rounds = int(max_rounds_per_condition)
        self.quality_samples = int(quality_samples)
        if teacher_view is not None and not isinstance(
                teacher_view, (list, tuple)):
            raise TypeError('CGANHook.teacher_view must be a list of '
                            f'transform configs, got {teacher_view!r}')
        self.teacher_view_cfg = copy.deepcopy(teacher_view)
        self.gan_dataset_cfg = copy.deepcopy(gan_dataset)
        self.overwrite_bank = bool(overwrite_bank)
        self.wait_timeout = float(wait_timeout)
        self.bank: Optional[SyntheticBank] = None
        self.regenerated = False

    # ------------------------------------------------------------ outputs
    @staticmethod
    def stage_dir(work_dir: str) -> str:
        """The hook's folder in a run's ``work_dir`` (cGAN, signals)."""
        return osp.join(work_dir, 'cgan')

    @classmethod
    def trained_weights(cls, work_dir: str) -> str:
        """Where a run in ``work_dir`` leaves its trained cGAN weights.

        What another run's ``generator_ckpt`` loads (two-stage use).

        Args:
            work_dir (str): The run's ``work_dir``.

        Returns:
            str: The path of the weights file.
        """
        return GANTrainer.final_weights(cls.stage_dir(work_dir))

    @classmethod
    def quality_file(cls, work_dir: str) -> str:
        """The JSON of the cGAN's quality figures a run leaves."""
        return osp.join(cls.stage_dir(work_dir), 'quality.json')

    @staticmethod
    def default_bank_dir(work_dir: str) -> str:
        """The bank of a run whose dataset sets no ``bank_dir``."""
        return osp.join(work_dir, 'synthetic_bank')

    # ---------------------------------------------------------------- parts
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

    # ----------------------------------------------------------------- hook
    def before_train(self, runner) -> None:
        mix = find_mix_dataset(runner.train_dataloader.dataset)
        if mix is None:
            raise ValueError('CGANHook needs a SyntheticMixDataset in '
                             'train_dataloader.dataset (the real set wrapped '
                             'with num_fake).')
        if mix.bank_dir is None:
            mix.bank_dir = self.default_bank_dir(runner.work_dir)
        # before hours of cGAN training, not when the bank is installed
        check_bank_dir(mix.bank_dir, 'train_dataloader.dataset.bank_dir')
        if mix.num_fake == 0:
            runner.logger.info('CGANHook: num_fake=0, nothing to generate')
            return
        rank, world_size = get_dist_info()
        work = self.stage_dir(runner.work_dir)
        check_shared_storage(
            [runner.work_dir, osp.dirname(osp.abspath(mix.bank_dir))],
            str(runner.timestamp), rank, world_size,
            'work_dir and train_dataloader.dataset.bank_dir')
        ready = osp.join(work, f'bank_ready_{runner.timestamp}.json')
        start = osp.join(work, f'bank_build_{runner.timestamp}.json')
        pulse = osp.join(work, f'rank0_heartbeat_{runner.timestamp}.json')
        if rank == 0:
            with Heartbeat(pulse):
                self._prepare_bank(runner, mix, start, world_size)
            os.makedirs(osp.dirname(ready), exist_ok=True)
            atomic_write_json(ready, dict(bank_dir=mix.bank_dir))
        else:
            # rank 0 writes the build signal (if it builds) before the
            # ready file, and the ready file once every rank's share is in
            with WatchHeartbeat(pulse, self.wait_timeout,
                                'CGANHook.wait_timeout'):
                wait_for_file((start, ready), runner.logger.info,
                              self.poll_seconds)
                if not osp.exists(ready):
                    self._build_share(runner, mix, read_json(start), rank,
                                      world_size)
                    wait_for_file(ready, runner.logger.info, self.poll_seconds)
        barrier()
        self.bank = SyntheticBank.open(mix.bank_dir, verify=False)
        restart_train_loader_workers(runner)

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
                        view: TeacherView, real_images: torch.Tensor,
                        real_labels: torch.Tensor) -> Optional[str]:
        """Where a cDR-RS model fitted for this build is cached, if any."""
        if self.density_ratio_cache is None or self.subsample is None:
            return None
        return dre_cache_file(self.density_ratio_cache, generator_hash,
                              filter_hash, view.settings(), real_images,
                              real_labels, self.subsample, self.seed,
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
        real_images, real_labels = load_real_images(
            self._gan_dataset(mix), gan.img_size, conditions.gan_label)
        gan.check_compatible(img_size=gan.img_size,
                             img_channels=real_images.shape[1])
        real_labels = torch.as_tensor(
            real_labels, dtype=torch.float32 if regression else torch.long)
        work = self.stage_dir(runner.work_dir)
        if self.generator_ckpt:
            load_weights_strictly(gan, self.generator_ckpt,
                                  'CGANHook.generator_ckpt')
            runner.logger.info(f'CGANHook: cGAN loaded from '
                               f'{self.generator_ckpt}')
            weights = self.generator_ckpt
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
            trainer.run(real_images, real_labels)
            weights = trainer.final_path
        adapter = filter_network(model, view, self.filter_model_cfg)
        generator_hash = hash_state_dict(gan.state_dict())
        filter_hash = hash_state_dict(adapter.model.state_dict())
        self._report_quality(
            runner, gan, adapter, real_images, real_labels, generator_hash,
            label_range=conditions.label_range or (0.0, 1.0))
        settings = self._settings(mix, real_images.shape[1:],
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
                                         real_images, real_labels)
        builder = self._builder(runner, gan, adapter, mix, conditions, device,
                                0, world_size, dre_cache)
        bank = builder.build(bank_dir, key, settings, real_images,
                             real_labels.to(device))
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

    def _build_share(self, runner, mix: SyntheticMixDataset, signal: dict,
                     rank: int, world_size: int) -> None:
        """A rank other than 0: its share of the bank, into staging.

        Loads the cGAN weights rank 0 trained (or loaded) and checks that
        the cGAN and the filtering network are the ones rank 0 hashed into
        the bank's key, so every rank draws from the same models. A failure
        is reported to rank 0 through the staging folder, so that it does
        not wait forever.
        """
        try:
            self._run_share(runner, mix, signal, rank, world_size)
        except Exception as err:
            if not isinstance(err, StagingFailure):
                staging = BankStaging(mix.bank_dir, signal['key'],
                                      str(runner.timestamp), rank,
                                      self.poll_seconds, runner.logger.info)
                staging.wait_ready()
                staging.fail(err)
            raise

    def _run_share(self, runner, mix: SyntheticMixDataset, signal: dict,
                   rank: int, world_size: int) -> None:
        model = self._unwrapped(runner)
        device = next(model.parameters()).device
        gan = self._build_gan(device)
        conditions = self._conditions(gan, mix)
        if signal['generator_weights']:
            load_weights_strictly(
                gan, signal['generator_weights'],
                f'the cGAN weights rank 0 named (rank {rank})')
        adapter = filter_network(model, self._checked_view(mix, gan),
                                 self.filter_model_cfg)
        for what, module, expected in (
                ('cGAN', gan, signal['generator']),
                ('filtering network', adapter.model, signal['filter_net'])):
            if hash_state_dict(module.state_dict()) != expected:
                raise RuntimeError(
                    f'CGANHook: rank {rank}\'s {what} differs from rank '
                    "0's (its weights hash differently): every rank must "
                    'load the same teacher / filter_model checkpoint.')
        runner.logger.info(f'CGANHook: rank {rank}/{world_size} joins the '
                           'bank build')
        builder = self._builder(runner, gan, adapter, mix, conditions, device,
                                rank, world_size)
        builder.build(mix.bank_dir, signal['key'], {})

    def _report_quality(self, runner, gan, adapter, real_images, real_labels,
                        generator_hash: str, label_range) -> None:
        """Log the cGAN's quality figure (computed once per generator)."""
        if not self.quality_samples:
            return
        quality = cached_gan_quality(
            self.quality_file(runner.work_dir), generator_hash, gan, adapter,
            real_images, real_labels, num_samples=self.quality_samples,
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
