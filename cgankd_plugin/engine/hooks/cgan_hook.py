# Copyright (c) cgankd_plugin contributors.
"""Train (or load) the cGAN and build the synthetic bank before training."""
import copy
import os
import os.path as osp
from typing import Optional, Sequence, Tuple

from mmengine.dist import barrier, get_dist_info
from mmengine.hooks import Hook

from ...datasets.synthetic_mix_dataset import (SyntheticMixDataset,
                                               find_mix_config,
                                               find_mix_dataset)
from ...registry import DATASETS, HOOKS
from ...synthesis.bank import SyntheticBank, check_bank_dir, hash_state_dict
from ...synthesis.bank_staging import BankStaging, StagingFailure
from ...synthesis.gan_training import GANTrainer
from ...synthesis.teacher_adapter import filter_network
from ...synthesis.teacher_filter import parse_filter_settings
from ...utils.atomic_io import atomic_write_json, read_json
from ...utils.checkpoint import load_weights_strictly
from ...utils.heartbeat import Heartbeat, WatchHeartbeat, wait_for_file
from ...utils.shared_storage import check_shared_storage
from ..cgan_stage import CGANStageMixin

_NO_MIX = ('CGANHook needs a SyntheticMixDataset in '
           'train_dataloader.dataset (the real set wrapped with num_fake).')


@HOOKS.register_module()
class CGANHook(CGANStageMixin, Hook):
    """cGAN-KD's data stage: cGAN -> generate -> subsample -> filter.

    Before the training dataloader is built, unless a complete bank with
    the same key (hash of generator weights, filtering-network weights and
    every setting below) already exists: trains the cGAN on the real
    training set (or loads ``generator_ckpt``), then builds the bank that
    the training set's ``SyntheticMixDataset`` reads. The bank's path and
    size live on that dataset (``bank_dir``, ``num_fake``); everything
    else lives here. MMEngine's ``Runner`` builds the training loader
    before any hook runs, so the stage is started by
    :class:`~cgankd_plugin.engine.runner.CGANKDRunner` (the
    ``runner_type`` of ``configs/_base_/cgankd/*``) through
    :meth:`prepare_train_dataloader`; the loader is then built once, with
    the bank in place, and ``before_train`` only checks that it was.

    Under distributed training the bank build is split over the ranks and
    the bank is byte for byte the one a single process makes. Rank 0 alone
    trains (``gan_trainer='hook'``; with ``'runner'`` every rank has
    trained it before) or loads the cGAN and decides whether to build; the
    other ranks wait for a file (``cgan/bank_ready_<timestamp>.json``:
    nothing to build, ``cgan/bank_build_<timestamp>.json``: build), never
    in a collective, so hours of cGAN training cannot hit a process-group
    timeout. On ``bank_build`` every rank loads the weights rank 0 names,
    checks that its cGAN and filtering network hash as rank 0's, and draws
    its share (:mod:`cgankd_plugin.synthesis.builder`: how the draws are
    split and seeded), handing it to rank 0 through the staging folder
    (:mod:`cgankd_plugin.synthesis.bank_staging`); rank 0 writes the bank
    and ``bank_ready``. A killed build resumes with any number of ranks.

    Args:
        gan (dict): Config of a ``ClassConditionalGAN`` or
            ``ContinuousConditionalGAN``.
        gan_iters (int): cGAN training iterations (generator steps, of
            ``gan.discriminator_steps`` discriminator steps each).
        gan_batch_size (int): cGAN batch size (per rank under
            ``gan_trainer='runner'``).
        gan_optimizers (dict): ``generator`` / ``discriminator`` optimizer
            configs (torch optimizers).
        gan_checkpoint_interval (int): Save the cGAN every this many
            iterations (resumable).
        generator_ckpt (str, optional): Load these cGAN weights instead of
            training.
        gan_trainer (str): Who trains the cGAN (without
            ``generator_ckpt``): ``'hook'``, this hook on rank 0 from the
            real set read by index (``GANTrainer``), or ``'runner'``, a
            Runner of its own on every rank before the student's runner
            is built (CcGANs on ``VicinalBatchSampler``'s draws; DDP,
            MMEngine's checkpoints, ``resume``, scalars and ETA in
            ``<work_dir>/cgan/runner``; needs ``CGANKDRunner``). Both leave
            the weights at :meth:`trained_weights`.
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
                 gan_trainer: str = 'hook',
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
        if gan_trainer not in ('hook', 'runner'):
            raise ValueError("CGANHook.gan_trainer must be 'hook' or "
                             f"'runner', got {gan_trainer!r}")
        self.gan_trainer = gan_trainer
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

    # ------------------------------------------------------------- the run
    def prepare_train_dataloader(self, runner, dataloader: dict) -> dict:
        """Build the bank, then give the training loader's config for it.

        Called by ``CGANKDRunner`` before it builds the training
        dataloader (and by ``tools/build_bank.py``), so that the loader,
        its dataset and its workers are made once, with the bank in place.

        Args:
            runner (Runner): The runner (its model holds the teacher).
            dataloader (dict): The ``train_dataloader`` config.

        Returns:
            dict: A copy of ``dataloader`` whose ``SyntheticMixDataset``
            names the bank (``bank_dir``, ``default_bank_dir`` if unset).
        """
        dataloader = copy.deepcopy(dataloader)
        mix_cfg = find_mix_config(dataloader.get('dataset'))
        if mix_cfg is None:
            raise ValueError(_NO_MIX)
        if mix_cfg.get('bank_dir') is None:
            mix_cfg['bank_dir'] = self.default_bank_dir(runner.work_dir)
        # a dataset of its own: the loader's is built after the bank
        self.build_bank(runner, DATASETS.build(copy.deepcopy(mix_cfg)))
        return dataloader

    def build_bank(self, runner, dataset) -> Optional[SyntheticBank]:
        """Train or load the cGAN and build the bank ``dataset`` reads.

        Every rank calls it (see the class docstring for who does what).

        Args:
            runner (Runner): The runner (its model holds the teacher).
            dataset: The training set: a ``SyntheticMixDataset`` or a
                wrapper of one. A ``bank_dir`` of None is set to
                :meth:`default_bank_dir` on it.

        Returns:
            SyntheticBank, optional: The bank, None when ``num_fake`` is 0.
        """
        mix = find_mix_dataset(dataset)
        if mix is None:
            raise ValueError(_NO_MIX)
        if mix.bank_dir is None:
            mix.bank_dir = self.default_bank_dir(runner.work_dir)
        # before hours of cGAN training, not when the bank is installed
        check_bank_dir(mix.bank_dir, 'train_dataloader.dataset.bank_dir')
        if mix.num_fake == 0:
            runner.logger.info('CGANHook: num_fake=0, nothing to generate')
            return None
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
        return self.bank

    def before_train(self, runner) -> None:
        """Check that the loop's dataset reads the bank this hook built."""
        mix = find_mix_dataset(runner.train_dataloader.dataset)
        if mix is None:
            raise ValueError(_NO_MIX)
        if mix.num_fake == 0:
            return
        if self.bank is None:
            raise RuntimeError(
                'CGANHook: the bank was not built before the training '
                "dataloader. MMEngine's Runner builds the loader before any "
                "hook runs: train with runner_type='CGANKDRunner' (set by "
                'configs/_base_/cgankd/*; tools/train.py and mmrazor\'s '
                'train.py build the runner a config names), or build the '
                'bank with tools/build_bank.py and train without CGANHook, '
                'train_dataloader.dataset.bank_dir pointing at it.')
        if osp.realpath(mix.bank_dir) != osp.realpath(self.bank.path):
            raise RuntimeError(
                f'CGANHook built the bank at {self.bank.path} but the '
                f'training set reads {mix.bank_dir}.')

    # ---------------------------------------------------- the other ranks
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



def cgan_hook_index(custom_hooks: Optional[Sequence]) -> Optional[int]:
    """Where ``CGANHook`` stands in a config's ``custom_hooks``.

    The entry's ``type`` is resolved through the registry, so ``CGANHook``,
    ``mmrazor.CGANHook`` and the class itself all match.

    Args:
        custom_hooks (Sequence, optional): Hook configs or built hooks.

    Returns:
        int, optional: Its index (None: there is none).

    Raises:
        ValueError: More than one (a training set has one bank).
    """
    found = []
    for i, hook in enumerate(custom_hooks or []):
        kind = hook.get('type') if isinstance(hook, dict) else type(hook)
        if isinstance(kind, str):
            kind = HOOKS.get(kind)
        if isinstance(kind, type) and issubclass(kind, CGANHook):
            found.append(i)
    if len(found) > 1:
        raise ValueError('custom_hooks holds more than one CGANHook: a '
                         'training set has one bank.')
    return found[0] if found else None
