# Copyright (c) cgankd_plugin contributors.
"""What a bank build does whatever the task: draws, cDR-RS, commits, roles.

:class:`BaseBankBuilder` holds the build's settings and accounting, draws
candidates through the generator and the teacher, sets up cDR-RS
(:class:`SubsamplingMixin`, in ``subsampling``), commits chunks to the
:class:`BankWriter` or stages them for it, and runs
:meth:`BaseBankBuilder.build` as the writer (rank 0) or as a helper. How
the bank is filled (streams, burn-in, rounds, relabelling) is the task's:
:class:`ClassificationBankBuilder`, :class:`RegressionBankBuilder`.
"""
import shutil
import time
from typing import Callable, Dict, List, Optional

import numpy as np
import torch

from ...structures import RealImages
from ...utils.progress import ProgressLog
from ..bank import BankWriter, SyntheticBank
from ..bank_staging import BankStaging, staging_dir
from ..density_ratio import rejection_sample
from ..layout import condition_quotas
from ..round_schedule import RoundSchedule
from ..teacher_adapter import TeacherAdapter
from .rng import BURN_IN_STREAM, ROUND_STREAM, seeded, to_uint8
from .subsampling import SubsamplingMixin

RELABEL_MODES = ('none', 'hard', 'soft')


class BaseBankBuilder(SubsamplingMixin):
    """Build one synthetic bank from a conditional GAN and a teacher.

    A subclass fills the bank for one task: it implements the filter's
    statistic, the relabelling, the conditions and seeding place of a
    round, the fakes cDR-RS is fitted on, the burn-in, and the writer's and
    the helpers' side of the build (``_fill``, ``_help``). cDR-RS is in
    :class:`SubsamplingMixin`.

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
        subsample (dict, optional): cDR-RS settings (``None``: off); keys
            ``epochs``, ``batch_size``, ``lr``, ``penalty``,
            ``hidden_dims``, ``num_fake_train`` (fakes to fit on).
        filter_quantile (float, optional): Keep samples whose statistic is
            at most this quantile of the burn-in draw.
        filter_threshold (float, optional): An absolute cut-off instead.
        burn_in (int): Burn-in samples per condition.
        batch_size (int): The largest round of candidates.
        seed (int): Seed of every draw.
        max_rounds_per_condition (int): Give up after this many rounds in
            a row that accepted nothing.
        log (callable, optional): Where progress lines go.
        rank (int): This process's rank in a distributed build.
        world_size (int): Processes sharing the build (1: not distributed).
        session (str): Identifies this run of a distributed build (the
            same string on every rank, e.g. the runner's timestamp).
        poll_seconds (float): How often a distributed rank looks for the
            files it waits for.
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
                 session: str = '',
                 poll_seconds: float = 1.0,
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
        self.session = str(session)
        self.poll_seconds = float(poll_seconds)
        self.dre_cache = dre_cache
        self.quotas = condition_quotas(self.num_fake, self.num_conditions)
        self.dre = None
        self.max_ratios = np.full(self.num_conditions, np.nan)
        self.cutoffs = np.full(self.num_conditions, np.nan)
        self.burn_in_statistic: Optional[np.ndarray] = None
        self.burn_in_conditions: Optional[np.ndarray] = None
        self.staging: Optional[BankStaging] = None
        self._bank_progress: Optional[ProgressLog] = None
        # this session's accounting
        self.draws: List[int] = []  # every generator + teacher pass
        self.chunk_candidates: List[int] = []  # per chunk committed/staged
        self.num_candidates = 0
        self.num_accepted = 0
        self.by_rank: Dict[int, Dict[str, int]] = {}

    # ------------------------------------------------------------ helpers
    @property
    def is_writer(self) -> bool:
        """bool: Whether this process writes the bank (rank 0)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """bool: Whether the build is split over processes."""
        return self.world_size > 1

    def owner(self, index: int) -> int:
        """The rank that draws condition (or planned round) ``index``."""
        return index % self.world_size

    # ----------------------------------------------------- the task's steps
    def _statistic(self, outputs: torch.Tensor,
                   conditions: np.ndarray) -> np.ndarray:
        """The filter's statistic of each candidate (lower passes)."""
        raise NotImplementedError

    def _relabel(self, chunk: Dict[str, np.ndarray],
                 outputs: torch.Tensor) -> None:
        """Add the stored targets (``teacher_labels``...) to ``chunk``."""
        raise NotImplementedError

    def _round_conditions(self, stream: int, round_index: int,
                          size: int) -> np.ndarray:
        """The condition of each candidate of a round."""
        raise NotImplementedError

    def _round_place(self, stream: int, round_index: int) -> tuple:
        """Where a round's draws are seeded from (after its stream)."""
        raise NotImplementedError

    def run_burn_in(self) -> None:
        """Draw every condition's burn-in; set the cut-offs (and ``M``)."""
        raise NotImplementedError

    def _progress(self, writer: BankWriter) -> dict:
        """What the writer holds, as helpers read it in ``progress.json``."""
        raise NotImplementedError

    def _fill(self, writer: BankWriter) -> None:
        """The writer's side: commit every chunk of the bank, in order."""
        raise NotImplementedError

    def _help(self) -> None:
        """A helper rank's side: its share of the build, into staging."""
        raise NotImplementedError

    # ---------------------------------------------------------------- draws
    def _generate(self, conditions: np.ndarray,
                  rng: torch.Generator) -> torch.Tensor:
        """uint8 images for the given condition indices."""
        labels = self.gan_labels[torch.as_tensor(conditions)]
        images = self.gan.sample(labels, rng=rng)
        if not torch.isfinite(images).all():
            raise FloatingPointError(
                'the generator produced NaN/Inf images; its weights are '
                'broken: retrain it or give another generator_ckpt.')
        return to_uint8(images).cpu()

    def _draw(self, conditions: np.ndarray, rng: torch.Generator) -> Dict:
        """Candidates through the generator and the teacher."""
        images = self._generate(conditions, rng)
        feats, outputs = self.teacher(images)
        stat = self._statistic(outputs.cpu(), conditions)
        self.draws.append(len(conditions))
        return dict(
            conditions=conditions,
            images=images.numpy(),
            outputs=outputs.cpu().numpy(),
            statistic=stat,
            ratios=(self._ratios(feats, conditions)
                    if self.dre is not None else None))

    def _keep(self, draw: Dict, rng: np.random.Generator) -> np.ndarray:
        """The filter (and cDR-RS) decision of every candidate."""
        conditions = draw['conditions']
        keep = draw['statistic'] <= self.cutoffs[conditions]
        if self.dre is not None:
            keep &= rejection_sample(draw['ratios'],
                                     self.max_ratios[conditions], rng)
        return keep

    def _chunk(self, draw: Dict, order: np.ndarray) -> Dict[str, np.ndarray]:
        """The chunk of the candidates ``order`` (indices), relabelled."""
        conditions = draw['conditions'][order]
        out = dict(
            images=draw['images'][order],
            cond_labels=self.bank_labels[conditions])
        self._relabel(out, torch.from_numpy(draw['outputs'][order]))
        return out

    def _round(self, stream: int, round_index: int,
               size: int) -> Dict[str, np.ndarray]:
        """One round of ``size`` candidates -> its accepted chunk.

        Args:
            stream (int): The class (classification); ignored for
                regression, which has one stream.
            round_index (int): The round's index in its stream.
            size (int): Candidates to draw.

        Returns:
            dict[str, np.ndarray]: The round's accepted chunk.
        """
        place = self._round_place(stream, round_index)
        conditions = self._round_conditions(stream, round_index, size)
        draw = self._draw(conditions, seeded(self.seed, ROUND_STREAM,
                                             *place))
        keep = self._keep(
            draw, np.random.default_rng([self.seed, ROUND_STREAM, *place]))
        return self._chunk(draw, np.flatnonzero(keep))

    def _burn_in_draw(self, condition: int) -> Dict:
        """The burn-in candidates of one condition (seeded by it)."""
        cond = np.full(self.burn_in, condition)
        return self._draw(cond, seeded(self.seed, BURN_IN_STREAM,
                                       condition))

    # -------------------------------------------------------------- commits
    def _commit(self, writer: BankWriter, chunk: Dict[str, np.ndarray],
                candidates: int, rank: int) -> int:
        """Append one chunk to the bank; returns the samples it added."""
        before = writer.num_committed
        writer.append_chunk(**chunk)
        got = writer.num_committed - before
        self._count(candidates, got, rank)
        if self._bank_progress is not None:
            self._bank_progress.update(writer.num_committed,
                                       f'accepted (chunk {writer.num_chunks})')
        return got

    def _count(self, candidates: int, accepted: int, rank: int) -> None:
        self.chunk_candidates.append(int(candidates))
        self.num_candidates += int(candidates)
        self.num_accepted += int(accepted)
        tally = self.by_rank.setdefault(
            int(rank), dict(accepted=0, candidates=0, chunks=0))
        tally['accepted'] += int(accepted)
        tally['candidates'] += int(candidates)
        tally['chunks'] += 1

    def _stage(self, name: str, chunk: Dict[str, np.ndarray],
               candidates: int) -> None:
        """A helper rank hands a committed round to the writer."""
        self.staging.save_chunk(name, chunk, candidates)
        self._count(candidates, len(chunk['images']), self.rank)

    def _take_staged(self, name: str,
                     wait_for: Optional[str] = None) -> Optional[tuple]:
        """A staged round: ``(chunk, candidates, rank)``, or None.

        Args:
            name (str): The round's file in the staging folder.
            wait_for (str, optional): Wait for it, drawn by whom this names;
                None: take it only if it is there.
        """
        if self.staging is None:
            return None
        return self.staging.load_chunk(name, wait_for)

    @staticmethod
    def _cut(chunk: Dict[str, np.ndarray], room: int) -> Dict:
        return {k: v[:room] for k, v in chunk.items()}

    def _check_stall(self, schedule: RoundSchedule, what: str) -> None:
        if schedule.stalled >= self.max_rounds:
            raise RuntimeError(
                f'the filter rejected every candidate of {what} in '
                f'{schedule.stalled} rounds of up to {self.batch_size} '
                'draws: loosen filter.quantile / filter.threshold or '
                'subsample, or train the cGAN longer.')

    # ----------------------------------------------------------------- build
    def build(self,
              bank_dir: str,
              key: str,
              settings: dict,
              real: Optional[RealImages] = None) -> Optional[SyntheticBank]:
        """Build (or finish building) the bank at ``bank_dir``.

        In a distributed build every rank calls this; rank 0 returns the
        bank, the others return None once their share is staged (they
        should then wait for rank 0, e.g. on a file it writes afterwards).

        Args:
            bank_dir (str): Where the bank goes.
            key (str): The bank's key (hash of weights and settings).
            settings (dict): Recorded in the bank's meta.
            real (RealImages, optional): The real images and their GAN
                labels, needed by cDR-RS (on rank 0), read a batch at a
                time.

        Returns:
            SyntheticBank: The finished bank, memory-mapped (rank 0).
        """
        self._started = time.time()
        self._bank_progress = None
        if self.distributed:
            self.staging = BankStaging(bank_dir, key, self.session,
                                       self.rank, self.poll_seconds,
                                       self.log)
        try:
            if self.is_writer:
                return self._build_as_writer(bank_dir, key, settings, real)
            self._build_as_helper()
            return None
        except BaseException as err:
            if self.staging is not None:
                self.staging.fail(err)
            raise

    def _build_as_writer(self, bank_dir, key, settings,
                         real: Optional[RealImages]) -> SyntheticBank:
        probs = (None if self.relabel != 'soft' else self.num_conditions)
        image_shape = (self.gan.img_channels, self.gan.img_size,
                       self.gan.img_size)
        writer = BankWriter(
            bank_dir, key, self.num_fake, image_shape,
            label_dtype=self.label_dtype, num_soft_classes=probs,
            settings=settings)
        if writer.num_committed:
            self.log(f'bank: resuming a partial build, '
                     f'{writer.num_committed}/{self.num_fake} already on '
                     'disk')
        if self.staging is not None:
            self.staging.prepare(self._progress(writer))
        resumed_at = writer.num_committed
        self._setup_subsampler(real)
        self._bank_progress = ProgressLog(
            'bank:', self.num_fake, self.log, unit='img',
            start=writer.num_committed, min_interval=10)
        self._fill(writer)
        meta = self._meta(resumed_at)
        if self.distributed:
            shares = ', '.join(
                f'rank {r}: {t["accepted"]} samples from {t["candidates"]} '
                'candidates' for r, t in sorted(self.by_rank.items()))
            self.log(f'bank: built by {self.world_size} ranks ({shares})')
        if self.staging is not None:
            # a helper may still be drawing a round no longer needed
            self.staging.wait_helpers(self.world_size)
        bank = writer.finalize(meta)
        if self.staging is not None:
            self.staging.remove()
        else:  # left by a killed distributed build, finished by one rank
            shutil.rmtree(staging_dir(bank_dir), ignore_errors=True)
        return bank

    def _meta(self, resumed_at: int) -> dict:
        """The build's record in the bank's meta (this session's share)."""
        elapsed = time.time() - self._started
        accepted = self.num_fake - resumed_at
        return dict(
            build_seconds=round(elapsed, 3),
            candidates_this_session=self.num_candidates,
            acceptance_rate=(round(accepted / self.num_candidates, 4)
                             if self.num_candidates else None),
            filter_cutoffs=[float(c) for c in self.cutoffs],
            relabel=self.relabel,
            world_size=self.world_size,
            by_rank_this_session=[
                dict(rank=r, **self.by_rank[r]) for r in sorted(self.by_rank)
            ])

    def _build_as_helper(self) -> None:
        self.staging.wait_ready()
        self._setup_subsampler(None)
        self._help()
        self.staging.mark_done()
        self.log(f'bank: rank {self.rank}/{self.world_size} staged '
                 f'{self.num_accepted} samples from {self.num_candidates} '
                 'candidates')

    def filter_summary(self) -> Dict[str, object]:
        """The burn-in statistic, cut-offs and kept share (histogram).

        Returns:
            dict: ``statistic`` (every burn-in candidate's), ``cutoffs``
            (per condition) and ``kept_fraction`` (of the burn-in).
        """
        kept = self.burn_in_statistic <= self.cutoffs[self.burn_in_conditions]
        return dict(
            statistic=self.burn_in_statistic,
            cutoffs=self.cutoffs,
            kept_fraction=float(np.mean(kept)))
