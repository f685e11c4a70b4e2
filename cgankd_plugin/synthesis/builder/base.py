# Copyright (c) cgankd_plugin contributors.
"""A bank build, whatever the task: its phases, files and barriers.

The bank holds ``num_fake`` samples in blocks, one per condition (a class,
or a value of the label grid): condition ``c``'s block holds ``quotas[c]``
samples (:func:`~cgankd_plugin.synthesis.layout.condition_quotas`; for
regression in proportion to each value's burn-in acceptance,
:func:`~cgankd_plugin.synthesis.layout.quotas_by_acceptance`). Rank
``r`` of ``W`` owns the conditions ``c`` with ``c % W == r``.
:meth:`BaseBankBuilder.build` runs four phases in the build folder
``<bank_dir>.build``, with ``mmengine.dist.barrier()`` between them (a
no-op in one process): :meth:`~BaseBankBuilder.prepare` (rank 0: the
folder and the cDR-RS model), :meth:`~BaseBankBuilder.draw_burn_in`
(``burn_in_<c>.npz`` of each owned condition: its survivors of the
cDR-RS sampler, or its raw draw, and the sampler's bound ``M``),
:meth:`~BaseBankBuilder.fill` (the cut-offs from every burn-in, then
``shard_<c>.npz`` of each owned condition) and
:meth:`~BaseBankBuilder.assemble` (rank 0: the shards, in condition
order, into the bank).

Every file is written atomically and a phase skips the files already
there, so a killed build resumes at its last finished condition. The
draws of condition ``c`` are seeded by their place (:mod:`.rng`): its
burn-in by ``(seed, c)`` (with cDR-RS, its draw for ``M`` and its rounds
by ``(seed, c, k)``), its round ``k`` by ``(seed, c, k)``; the cDR-RS
bound ``M`` of ``c`` is carried from its burn-in file through its rounds,
in order. So the bank is the same, byte for byte, whatever the number of
ranks and wherever a build was killed.
"""
import json
import os.path as osp
import time
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import barrier

from ...structures import RealImages
from ...utils.atomic_io import atomic_write_json, json_default, read_json
from ...utils.fault_injection import fault_point
from ...utils.progress import ProgressLog
from ..bank import (ARRAY_NAMES, BUILD_SUFFIX, BankCorruptError, BankError,
                    BankWriter, SyntheticBank, check_bank_dir)
from ..bank.format import load_npz, make_writable_dir, remove_path, save_npz
from ..layout import condition_quotas, quotas_by_acceptance
from ..teacher_adapter import TeacherAdapter
from ..teacher_filter import check_filter_settings, cutoffs_from_burn_in
from .sampling import SamplingMixin
from .statistics import BuildTally, describe
from .subsampling import SubsamplingMixin, subsample_settings

RELABEL_MODES = ('none', 'hard', 'soft')
RECORD_FILE = 'build.json'
# the fields of the burn-in and shard files; a build folder of another
# version is started afresh
FILES_VERSION = 2


class BaseBankBuilder(SamplingMixin, SubsamplingMixin):
    """Build one synthetic bank from a conditional GAN and a teacher.

    The phases of a build are here; how a condition's shard is sampled is
    in :class:`SamplingMixin`, cDR-RS in :class:`SubsamplingMixin`. A
    subclass fills the bank for one task: the filter's statistic and the
    relabelling (:class:`ClassificationBankBuilder`,
    :class:`RegressionBankBuilder`).

    Args:
        gan (BaseConditionalGAN): A ``ClassConditionalGAN`` or
            ``ContinuousConditionalGAN`` (as the subclass builds for).
        teacher (TeacherAdapter): The filtering network (the distiller's
            teacher or a separate ``filter_model``).
        num_fake (int): Exactly this many samples end up in the bank.
        gan_labels (torch.Tensor): The conditions, as the GAN takes them:
            class indices (long) or label values normalised to [0, 1].
        bank_labels (np.ndarray): The same conditions as stored in the bank:
            class indices, or label values in original units.
        relabel (str): ``'none'`` keeps the generating class, ``'hard'``
            stores the teacher's argmax, ``'soft'`` also its probabilities.
            Regression always stores the teacher's value.
        subsample (dict, optional): cDR-RS settings (``None``: off):
            ``burn_in`` (fakes per condition whose largest ratio starts
            ``M``), ``flip`` (flip the real images at random in the fit)
            and the keywords of
            :func:`~cgankd_plugin.synthesis.density_ratio.fit_density_ratio`
            (``epochs``, ``batch_size``, ``lr``, ``penalty``,
            ``lr_decay_epochs``, ...); see :func:`.subsample_settings`.
        filter_quantile (float, optional): Keep samples whose statistic is
            at most this quantile of the burn-in draw.
        filter_threshold (float, optional): An absolute cut-off instead.
        burn_in (int): Burn-in samples per condition (with cDR-RS, its
            survivors): what the filter's cut-off is set on.
        batch_size (int): The largest round of candidates.
        seed (int): Seed of every draw.
        max_rounds_per_condition (int): Give up after this many rounds in
            a row that accepted nothing.
        log (callable, optional): Where progress lines go.
        rank (int): This process's rank in a distributed build.
        world_size (int): Processes sharing the build (1: not distributed).
        dre_cache (str, optional): A file for the fitted cDR-RS model:
            loaded when it exists (the caller names it by everything the
            fit depends on), else written after the fit, so banks that
            differ only in filtering or relabelling fit cDR-RS once.
    """

    #: bool: Whether the subclass builds for a continuous label.
    is_regression = False
    #: str: The dtype of the bank's ``teacher_labels``.
    label_dtype = 'int64'

    def __init__(self,
                 gan,
                 teacher: TeacherAdapter,
                 num_fake: int,
                 gan_labels: torch.Tensor,
                 bank_labels: np.ndarray,
                 relabel: str = 'hard',
                 subsample: Optional[dict] = None,
                 filter_quantile: Optional[float] = 0.9,
                 filter_threshold: Optional[float] = None,
                 burn_in: int = 200,
                 batch_size: int = 256,
                 seed: int = 0,
                 max_rounds_per_condition: int = 100,
                 log: Optional[Callable[[str], None]] = None,
                 rank: int = 0,
                 world_size: int = 1,
                 dre_cache: Optional[str] = None) -> None:
        if relabel not in RELABEL_MODES:
            raise ValueError(f'relabel must be one of {RELABEL_MODES}, got '
                             f'{relabel!r}')
        if len(gan_labels) != len(bank_labels):
            raise ValueError('gan_labels and bank_labels differ in length')
        if num_fake <= 0:
            raise ValueError(f'num_fake must be > 0, got {num_fake}')
        if not 0 <= rank < world_size:
            raise ValueError(f'rank must lie in [0, world_size), got rank '
                             f'{rank} of {world_size}')
        if bool(gan.is_continuous) != self.is_regression:
            raise TypeError(f'{type(self).__name__} cannot build from a '
                            f'{type(gan).__name__}: use make_bank_builder')
        check_filter_settings(filter_quantile, filter_threshold)
        if subsample is not None:
            subsample_settings(subsample)
        self.gan = gan
        self.teacher = teacher
        self.num_fake = int(num_fake)
        self.gan_labels = gan_labels
        self.bank_labels = np.asarray(bank_labels)
        self.num_conditions = len(gan_labels)
        self.relabel = relabel
        self.subsample = subsample
        self.filter_quantile = filter_quantile
        self.filter_threshold = filter_threshold
        self.burn_in = int(burn_in)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.max_rounds = int(max_rounds_per_condition)
        self.log = log or print
        self.rank = int(rank)
        self.world_size = int(world_size)
        self.dre_cache = dre_cache
        self.quotas = condition_quotas(self.num_fake, self.num_conditions)
        self.dre = None
        # cDR-RS's bound M of each condition after its burn-in
        self.max_ratios = np.full(self.num_conditions, np.nan)
        self.cutoffs = np.full(self.num_conditions, np.nan)
        self.burn_in_statistic: Optional[np.ndarray] = None
        self.burn_in_conditions: Optional[np.ndarray] = None
        self.bank_dir = self.build_dir = self.key = None
        self.settings: dict = {}
        self._started = time.time()
        # this session's work: every generator + teacher pass (cDR-RS's
        # draws for M too), and the [candidates, accepted] of each round
        # (burn-in first) of each condition this builder filled
        self.draws: List[int] = []
        self.rounds: Dict[int, List[List[int]]] = {}

    @property
    def num_candidates(self) -> int:
        """int: Candidates drawn for the conditions this builder filled."""
        return sum(n for rounds in self.rounds.values() for n, _ in rounds)

    def owned(self) -> range:
        """range: The conditions this rank draws."""
        return range(self.rank, self.num_conditions, self.world_size)

    def _file(self, kind: str, condition: int) -> str:
        return osp.join(self.build_dir, f'{kind}_{condition:05d}.npz')

    # --------------------------------------------------------------- phases
    def _record(self) -> dict:
        """What a build folder must hold to be resumed (as JSON reads)."""
        record = dict(
            files_version=FILES_VERSION,
            key=self.key,
            num_fake=self.num_fake,
            bank_labels=self.bank_labels,
            image_shape=[self.gan.img_channels, self.gan.img_size],
            relabel=self.relabel,
            subsample=self.subsample,
            filter=[self.filter_quantile, self.filter_threshold],
            burn_in=self.burn_in,
            batch_size=self.batch_size,
            seed=self.seed)
        return json.loads(json.dumps(record, default=json_default))

    def _expect(self, path: str) -> str:
        """``path``, which a rank wrote before the last barrier."""
        if not osp.isfile(path):
            raise BankError(
                f'rank {self.rank} does not see {path!r}, written before '
                'the last barrier: every rank must see the bank folder on '
                'shared storage (a file system every node mounts).')
        return path

    def prepare(self,
                bank_dir: str,
                key: str,
                settings: dict,
                real: Optional[RealImages] = None) -> None:
        """Phase 1: the build folder and the cDR-RS model (rank 0).

        Every rank records where the bank goes; rank 0 keeps a build
        folder made for the same key and settings (its files are reused)
        or makes a new one, then loads or fits the cDR-RS model.

        Args:
            bank_dir (str): Where the bank goes.
            key (str): The bank's key (hash of weights and settings).
            settings (dict): Recorded in the bank's meta.
            real (RealImages, optional): The real images and their GAN
                labels, which cDR-RS is fitted on (read on rank 0 only, a
                batch at a time).
        """
        check_bank_dir(bank_dir)
        self.bank_dir = osp.normpath(bank_dir)
        self.build_dir = self.bank_dir + BUILD_SUFFIX
        self.key, self.settings = key, dict(settings)
        self._started = time.time()
        if self.rank != 0:
            return
        path = osp.join(self.build_dir, RECORD_FILE)
        if read_json(path) != self._record():
            remove_path(self.build_dir)
            make_writable_dir(self.build_dir)
            atomic_write_json(path, self._record())
        self._setup_subsampler(real)

    def draw_burn_in(self) -> None:
        """Phase 2: the burn-in of this rank's conditions, into files.

        Loads the cDR-RS model rank 0 saved (other ranks); a condition
        whose burn-in file exists is not drawn again.

        Raises:
            BankError: if the build folder is not the one rank 0 prepared.
        """
        record = self._expect(osp.join(self.build_dir, RECORD_FILE))
        if read_json(record) != self._record():
            raise BankError(
                f'rank {self.rank} builds the bank with other settings than '
                f'rank 0 recorded in {record!r}')
        if self.subsample is not None and self.dre is None:
            self._load_dre(self._expect(self._dre_file()))
        for c in self.owned():
            path = self._file('burn_in', c)
            if not osp.isfile(path):
                save_npz(path, self._burn_in(c))

    def fill(self) -> None:
        """Phase 3: the cut-offs, then this rank's shards.

        Every rank reads every condition's burn-in statistic (and cDR-RS
        bound), so all set the same cut-offs; then each fills its
        conditions' quotas (:meth:`_fill_condition`), skipping the shards
        already on disk.
        """
        stats = []
        for c in range(self.num_conditions):
            data = load_npz(
                self._expect(self._file('burn_in', c)),
                ('statistic', 'max_ratio'))
            stats.append(data['statistic'])
            self.max_ratios[c] = data.get('max_ratio', np.nan)
        if self.dre is not None and not any(len(s) for s in stats):
            raise ValueError(
                'cDR-RS kept no burn-in candidate of any condition: the '
                'density-ratio model collapsed. Retrain it (e.g. with a '
                'larger subsample.penalty) or set subsample=None.')
        self.burn_in_statistic = np.concatenate(stats)
        self.burn_in_conditions = np.repeat(
            np.arange(self.num_conditions), [len(s) for s in stats])
        self.cutoffs = cutoffs_from_burn_in(
            self.burn_in_statistic, self.burn_in_conditions,
            self.num_conditions, self.filter_quantile, self.filter_threshold,
            per_condition=not self.is_regression)
        if self.is_regression:
            passed = self.burn_in_statistic <= self.cutoffs[
                self.burn_in_conditions]
            self.quotas = quotas_by_acceptance(
                self.num_fake,
                np.bincount(self.burn_in_conditions[passed],
                            minlength=self.num_conditions))
        mine = [c for c in self.owned() if self.quotas[c]]
        todo = [c for c in mine if not osp.isfile(self._file('shard', c))]
        total = int(sum(self.quotas[c] for c in mine))
        done = total - int(sum(self.quotas[c] for c in todo))
        if done:
            self.log(f'bank: resuming a partial build, {done}/{total} '
                     f'samples of rank {self.rank} already on disk')
        progress = ProgressLog(
            'bank:', total, self.log, unit='img', start=done,
            min_interval=10)
        for c in todo:
            draw = load_npz(self._file('burn_in', c))
            save_npz(self._file('shard', c), self._fill_condition(c, draw))
            fault_point('bank.shard')
            done += int(self.quotas[c])
            progress.update(done, f'accepted (condition {c})')

    def assemble(self) -> SyntheticBank:
        """Phase 4 (rank 0): the shards, in condition order, into the bank.

        One shard is in memory at a time. The meta records the figures of
        every shard (whichever rank or run drew them, see
        :class:`~.statistics.BuildTally`), the cut-offs and the
        relabelling; the build folder is removed.

        Returns:
            SyntheticBank: The finished bank.
        """
        image_shape = (self.gan.img_channels, self.gan.img_size,
                       self.gan.img_size)
        writer = BankWriter(
            self.bank_dir, self.key, self.num_fake, image_shape,
            label_dtype=self.label_dtype,
            num_soft_classes=(self.num_conditions
                              if self.relabel == 'soft' else None),
            settings=self.settings)
        tally = BuildTally(None if self.is_regression else
                           self.num_conditions)
        for c in np.flatnonzero(self.quotas):
            path = self._expect(self._file('shard', c))
            shard = load_npz(path)
            if len(shard['images']) != self.quotas[c]:
                raise BankCorruptError(
                    f'{path!r} holds {len(shard["images"])} samples, '
                    f'expected {self.quotas[c]}: delete {self.build_dir!r} '
                    'to rebuild')
            tally.add(shard)
            writer.append_chunk(
                **{name: shard[name]
                   for name in ARRAY_NAMES if name in shard})
        figures = tally.figures(self.num_fake, self.subsample is not None,
                                self.relabel)
        bank = writer.finalize(
            dict(
                build_seconds=round(time.time() - self._started, 3),
                **figures,
                filter_cutoffs=[float(cut) for cut in self.cutoffs],
                relabel=self.relabel,
                world_size=self.world_size))
        remove_path(self.build_dir)
        self.log(f'bank: {self.num_fake} samples from '
                 f'{figures["candidates"]} candidates ({describe(figures)}), '
                 f'built by {self.world_size} rank(s)')
        return bank

    def build(self,
              bank_dir: str,
              key: str,
              settings: dict,
              real: Optional[RealImages] = None) -> SyntheticBank:
        """Build (or finish building) the bank at ``bank_dir``.

        Called on every rank: runs the four phases with a barrier after
        each (whose timeout is the process group's) and returns the bank
        on every rank. A complete bank of the same key is only opened
        (and its checksums verified); one of another key is rebuilt and
        replaced.

        Args:
            bank_dir (str): Where the bank goes.
            key (str): The bank's key (hash of weights and settings).
            settings (dict): Recorded in the bank's meta.
            real (RealImages, optional): The real images and their GAN
                labels, needed by cDR-RS.

        Returns:
            SyntheticBank: The finished bank.

        Raises:
            BankCorruptError: naming the file, if the complete bank of
                this key fails its checksums.
        """
        if SyntheticBank.is_complete(bank_dir, key):
            bank = SyntheticBank.open(bank_dir, key, verify=True)
            if self.rank == 0:  # left by a build killed after the swap
                remove_path(osp.normpath(bank_dir) + BUILD_SUFFIX)
            return bank
        self.prepare(bank_dir, key, settings, real)
        barrier()
        self.draw_burn_in()
        barrier()
        self.fill()
        barrier()
        bank = self.assemble() if self.rank == 0 else None
        barrier()
        if bank is None:
            bank = SyntheticBank.open(bank_dir, key, verify=False)
        return bank

    def filter_summary(self) -> Dict[str, object]:
        """The burn-in statistic, cut-offs and kept share (histogram).

        Valid on every rank once :meth:`fill` has run (not after a
        :meth:`build` that found the bank complete).

        Returns:
            dict: ``statistic`` (every burn-in candidate's; with cDR-RS,
            every survivor's) and ``conditions`` (theirs), ``cutoffs`` (per
            condition), ``kept_fraction`` (of the burn-in samples),
            ``per_condition`` (False: one pooled cut-off), ``quantile``
            and ``threshold`` (the filter's settings).
        """
        kept = self.burn_in_statistic <= self.cutoffs[self.burn_in_conditions]
        return dict(
            statistic=self.burn_in_statistic,
            conditions=self.burn_in_conditions,
            cutoffs=self.cutoffs,
            kept_fraction=float(np.mean(kept)),
            per_condition=not self.is_regression,
            quantile=self.filter_quantile,
            threshold=self.filter_threshold)
