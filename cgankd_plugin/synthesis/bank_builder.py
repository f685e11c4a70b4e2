# Copyright (c) cgankd_plugin contributors.
"""Generate, subsample, filter, relabel and store the synthetic bank.

The pipeline of cGAN-KD (Ding et al.), steps 2-5 of ``DESIGN.md``. The
bank is filled by *streams*: one per class for classification (class 0's
block of the bank, then class 1's, ...), one for the whole bank for
regression. Each stream is a sequence of chunks, each committed to disk
atomically:

1. the burn-in chunk: a burn-in draw per condition fixes the filter
   cut-offs (per class; pooled over the label grid for regression) and,
   with cDR-RS, each condition's largest density ratio ``M``; its
   candidates that pass the cut-off (and cDR-RS) are the stream's first
   accepted samples, so the burn-in is not thrown away (for regression
   the pooled burn-in is shuffled first, so a cut at the quota keeps a
   spread of labels);
2. rounds of candidates (for regression spread over the whole label
   grid), each subsampled (cDR-RS), filtered by the teacher and
   relabelled; their sizes follow the burn-in's acceptance, bounded by
   what the stream still needs (:class:`RoundSchedule`);
3. the chunks are assembled into the bank when every quota is full.

Every random draw is seeded from the build's seed and its place: the
burn-in of condition ``c`` from ``(seed, c)``, round ``k`` of class ``c``
from ``(seed, c, k)``, regression round ``r`` from ``(seed, r)``. Round
sizes depend only on the burn-in and on the chunks already committed. So
a build that was killed and restarted produces the same bank, byte for
byte, as one that was not, and so does a build split over processes.

Distributed builds (``world_size > 1``): rank ``r`` draws the burn-in of
the conditions ``r, r + W, ...``; for classification it also runs those
classes' streams; for regression it draws the planned rounds ``r, r + W,
...`` (the plan depends on the pooled burn-in only, which every rank
reads). Rank 0 alone holds the :class:`BankWriter`: it fits cDR-RS, runs
its own share straight into the writer, takes the other ranks' rounds
from the staging folder (:class:`BankStaging`) in the order a one-process
build commits them, runs the rare top-up rounds of regression, and
finalizes. Nothing waits in a collective: ranks poll files.
"""
import os
import os.path as osp
import shutil
import time
from typing import Callable, Dict, List, Optional

import numpy as np
import torch

from ..utils.atomic_io import atomic_torch_save
from ..utils.progress import ProgressLog
from .bank import BankWriter, SyntheticBank
from .bank_staging import PROGRESS_FILE, BankStaging, staging_dir
from .density_ratio import (DensityRatioMLP, estimate_max_ratio,
                            estimate_max_ratios, fit_density_ratio,
                            predict_density_ratio, rejection_sample)
from .layout import condition_quotas
from .round_schedule import RoundSchedule
from .teacher_adapter import TeacherAdapter
from .teacher_filter import (classification_statistic, condition_cutoff,
                             cutoffs_from_burn_in, regression_statistic)

RELABEL_MODES = ('none', 'hard', 'soft')
_BURN_IN_STREAM = 1
_ROUND_STREAM = 2
_DRE_STREAM = 3
_BURN_IN_CHUNK_STREAM = 4
_CONDITION_STREAM = 5
_DRE_FILE = 'dre.pth'
_CHUNK_FIELDS = ('images', 'cond_labels', 'teacher_labels', 'teacher_probs')


def seeded(seed: int, *stream: int) -> torch.Generator:
    """A CPU torch generator for one named stream of a build."""
    state = np.random.SeedSequence([seed, *stream]).generate_state(2)
    value = int(state[0]) << 32 | int(state[1])
    return torch.Generator().manual_seed(value & ((1 << 63) - 1))


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float images to uint8, as they are stored and trained on."""
    return ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def split_by_quota(sizes: List[int], quotas: np.ndarray) -> List[List[int]]:
    """Cut a build's chunk sizes into the chunks of each class's stream.

    A class's stream ends when its quota is full, so the class of every
    chunk follows from the sizes alone (a class with quota 0 has no chunk).

    Args:
        sizes (list[int]): Samples of each committed chunk, in order.
        quotas (np.ndarray): The quota of each class.

    Returns:
        list[list[int]]: The chunk sizes of each class.
    """
    out: List[List[int]] = [[] for _ in quotas]
    c, filled = 0, 0
    for size in sizes:
        while c < len(quotas) and filled >= quotas[c]:
            c, filled = c + 1, 0
        if c == len(quotas):
            raise ValueError(f'{len(sizes)} chunks hold more samples than '
                             f'the quotas ({int(np.sum(quotas))})')
        out[c].append(int(size))
        filled += int(size)
    return out


def _committed_sizes(writer: BankWriter) -> List[int]:
    """The sample count of each chunk the writer has committed."""
    return writer.chunk_sizes


class BankBuilder:
    """Build one synthetic bank from a conditional GAN and a teacher.

    Args:
        gan (BaseConditionalGAN): A ``ClassConditionalGAN`` or
            ``ContinuousConditionalGAN``.
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
        dre_cache (str, optional): A file for the fitted cDR-RS model:
            loaded when it exists (the caller names it by everything the
            fit depends on), else written after the fit, so banks that
            differ only in filtering or relabelling fit cDR-RS once.
        log (callable, optional): Where progress lines go.
        rank (int): This process's rank in a distributed build.
        world_size (int): Processes sharing the build (1: not distributed).
        session (str): Identifies this run of a distributed build (the
            same string on every rank, e.g. the runner's timestamp).
        poll_seconds (float): How often a distributed rank looks for the
            files it waits for.
    """

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
        self.gan = gan
        self.teacher = teacher
        self.num_fake = int(num_fake)
        self.gan_labels = gan_labels
        self.bank_labels = np.asarray(bank_labels)
        self.num_conditions = len(gan_labels)
        self.is_regression = bool(gan.is_continuous)
        self.relabel = 'value' if self.is_regression else relabel
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
        self._statistics: Dict[int, np.ndarray] = {}
        self.staging: Optional[BankStaging] = None
        # this session's accounting
        self.draws: List[int] = []  # every generator + teacher pass
        self.chunk_candidates: List[int] = []  # per chunk committed/staged
        self.num_candidates = 0
        self.num_accepted = 0
        self.by_rank: Dict[int, Dict[str, int]] = {}

    # ------------------------------------------------------------ helpers
    @property
    def is_writer(self) -> bool:
        """Whether this process writes the bank (rank 0)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def owner(self, index: int) -> int:
        """The rank that draws condition (or planned round) ``index``."""
        return index % self.world_size

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

    def _teacher_stats(self, images: torch.Tensor, conditions: np.ndarray):
        feats, outputs = self.teacher(images)
        if self.is_regression:
            target = torch.as_tensor(
                self.bank_labels[conditions].astype(np.float32))
            stat = regression_statistic(outputs.cpu(), target)
        else:
            target = torch.as_tensor(conditions, dtype=torch.long)
            stat = classification_statistic(outputs.cpu(), target)
        return feats, outputs, stat

    def _ratios(self, feats: torch.Tensor,
                conditions: np.ndarray) -> np.ndarray:
        labels = self.gan_labels[torch.as_tensor(conditions)]
        return np.asarray(
            predict_density_ratio(self.dre, feats, labels.to(feats.device)))

    def _draw(self, conditions: np.ndarray, rng: torch.Generator) -> Dict:
        """Candidates through the generator and the teacher."""
        images = self._generate(conditions, rng)
        feats, outputs, stat = self._teacher_stats(images, conditions)
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
        outputs = torch.from_numpy(draw['outputs'][order])
        out = dict(
            images=draw['images'][order],
            cond_labels=self.bank_labels[conditions])
        if self.is_regression:
            out['teacher_labels'] = outputs.numpy().astype(np.float32)
        elif self.relabel == 'none':
            out['teacher_labels'] = out['cond_labels'].astype(np.int64)
        else:
            out['teacher_labels'] = outputs.argmax(1).numpy().astype(
                np.int64)
        if self.relabel == 'soft':
            out['teacher_probs'] = outputs.softmax(1).numpy().astype(
                np.float32)
        return out

    def _round_conditions(self, stream: int, round_index: int,
                          size: int) -> np.ndarray:
        """The condition of each candidate of a round.

        Classification: the stream's class. Regression spreads each round
        over the whole label grid and keeps whatever passes, so the number
        of samples per label follows acceptance (as the official code,
        which filters one pool): a label the teacher never agrees with
        cannot stall the build.
        """
        if self.is_regression:
            rng = np.random.default_rng(
                [self.seed, _CONDITION_STREAM, round_index])
            return rng.integers(0, self.num_conditions, size)
        return np.full(size, stream)

    def _round(self, stream: int, round_index: int,
               size: int) -> Dict[str, np.ndarray]:
        """One round of ``size`` candidates -> its accepted chunk.

        Args:
            stream (int): The class (classification); ignored for
                regression, which has one stream.
            round_index (int): The round's index in its stream.
            size (int): Candidates to draw.
        """
        place = ((round_index, ) if self.is_regression else
                 (stream, round_index))
        conditions = self._round_conditions(stream, round_index, size)
        draw = self._draw(conditions, seeded(self.seed, _ROUND_STREAM,
                                             *place))
        keep = self._keep(
            draw, np.random.default_rng([self.seed, _ROUND_STREAM, *place]))
        return self._chunk(draw, np.flatnonzero(keep))

    # ------------------------------------------------------------ cDR-RS
    def fit_subsampler(self, real_images: torch.Tensor,
                       real_labels: torch.Tensor) -> None:
        """Fit the cDR-RS density-ratio model (teacher features).

        The fakes are generated at the real labels, ``num_fake_train`` of
        them (default: as many as real images). Classification cycles the
        shuffled real labels, so every real class gets fakes; regression
        pairs fake ``j`` with real image ``j % N_real`` and generates it at
        that image's label (at least one fake per real image), so the model
        compares each real image with fakes of its own label.
        """
        cfg = dict(self.subsample or {})
        num_train = int(cfg.pop('num_fake_train', len(real_images)))
        progress = ProgressLog('cDR-RS: teacher features of real images',
                               len(real_images), self.log, unit='img',
                               min_interval=10)
        real_feats = []
        for i in range(0, len(real_images), self.batch_size):
            real_feats.append(
                self.teacher(real_images[i:i + self.batch_size])[0].cpu())
            progress.update(min(i + self.batch_size, len(real_images)))
        real_feats = torch.cat(real_feats)
        rng = seeded(self.seed, _DRE_STREAM)
        base = real_labels.cpu()
        if self.is_regression:  # fake j at the label of real image j % N
            num_train = max(num_train, len(base))
        else:  # the shuffled real labels, cycled: every class gets fakes
            base = base[torch.randperm(len(base), generator=rng)]
        fake_labels = base[torch.arange(num_train) % len(base)]
        fake_feats = []
        progress = ProgressLog('cDR-RS: teacher features of fakes',
                               num_train, self.log, unit='img',
                               min_interval=10)
        for i in range(0, num_train, self.batch_size):
            labels = fake_labels[i:i + self.batch_size].to(
                self.gan_labels.device)
            images = to_uint8(self.gan.sample(labels, rng=rng)).cpu()
            fake_feats.append(self.teacher(images)[0].cpu())
            progress.update(min(i + self.batch_size, num_train))
        num_classes = None if self.is_regression else self.num_conditions
        self.log(f'cDR-RS: fitting the density ratio on {len(real_feats)} '
                 f'real and {num_train} fake feature vectors')
        self.dre = fit_density_ratio(
            real_feats, real_labels.cpu(), torch.cat(fake_feats), fake_labels,
            num_classes, rng=rng, log_fn=self.log, **cfg)

    def _dre_arch(self, feat_dim: int) -> dict:
        cfg = self.subsample or {}
        arch = dict(
            feat_dim=int(feat_dim),
            num_classes=None if self.is_regression else self.num_conditions)
        for name in ('hidden_dims', 'dropout'):
            if name in cfg:
                arch[name] = cfg[name]
        return arch

    def _setup_subsampler(self, real_images, real_labels) -> None:
        """Fit cDR-RS (rank 0) or load the model rank 0 published."""
        if self.subsample is None:
            return
        staging = self.staging
        if self.is_writer:
            saved = (staging.path(_DRE_FILE)
                     if staging is not None and staging.exists(_DRE_FILE)
                     else None)
            if saved is not None:
                self._load_dre(saved)
                self.log('cDR-RS: density-ratio model loaded from the '
                         'staging folder (a resumed build)')
                return
            if self.dre_cache is not None and osp.isfile(self.dre_cache):
                self._load_dre(self.dre_cache)
                self.log('cDR-RS: density-ratio model loaded from '
                         f'{self.dre_cache} (fitted by an earlier build '
                         'with the same generator, teacher and data)')
            else:
                if real_images is None:
                    raise ValueError(
                        'cDR-RS subsampling needs the real images')
                self.fit_subsampler(real_images, real_labels)
                if self.dre_cache is not None:
                    self._save_dre(self.dre_cache)
            if staging is not None:
                self._save_dre(staging.path(_DRE_FILE))
            return
        staging.wait_until(lambda: staging.exists(_DRE_FILE),
                           'rank 0 to fit the cDR-RS model')
        self._load_dre(staging.path(_DRE_FILE))

    def _save_dre(self, path: str) -> None:
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        atomic_torch_save(
            dict(arch=self._dre_arch(self.dre.feat_dim),
                 state_dict=self.dre.state_dict()), path)

    def _load_dre(self, path: str) -> None:
        saved = torch.load(path, map_location='cpu', weights_only=True)
        arch = dict(saved['arch'])
        model = DensityRatioMLP(arch.pop('feat_dim'), **arch)
        model.load_state_dict(saved['state_dict'])
        self.dre = model.eval()

    # -------------------------------------------------------------- burn-in
    def _burn_in_draw(self, condition: int) -> Dict:
        """The burn-in candidates of one condition (seeded by it)."""
        cond = np.full(self.burn_in, condition)
        return self._draw(cond, seeded(self.seed, _BURN_IN_STREAM,
                                       condition))

    def _class_burn_in(self, c: int, need_chunk: bool) -> Optional[Dict]:
        """Cut-off and ``M`` of class ``c``; its burn-in chunk if needed.

        A distributed build keeps each class's burn-in figures in the
        staging folder, so a resumed build (or rank 0, for the bank's
        meta) need not draw it again.
        """
        name = f'burn_in_{c:05d}.npz'
        record = None
        if self.staging is not None and not need_chunk:
            record = self.staging.load(name)
        if record is not None:
            self._statistics[c] = record['statistic']
            self.cutoffs[c] = float(record['cutoff'])
            self.max_ratios[c] = float(record['max_ratio'])
            return None
        draw = self._burn_in_draw(c)
        self._statistics[c] = draw['statistic']
        self.cutoffs[c] = condition_cutoff(
            draw['statistic'], self.filter_quantile, self.filter_threshold)
        if self.dre is not None:
            self.max_ratios[c] = estimate_max_ratio(draw['ratios'])
        if self.staging is not None and not self.staging.exists(name):
            self.staging.save(
                name,
                statistic=draw['statistic'],
                cutoff=np.float64(self.cutoffs[c]),
                max_ratio=np.float64(self.max_ratios[c]))
        keep = self._keep(
            draw, np.random.default_rng([self.seed, _BURN_IN_STREAM, c]))
        return self._chunk(draw, np.flatnonzero(keep))

    def _regression_burn_in(self) -> Dict:
        """The pooled burn-in of every label value (regression).

        Each rank draws the labels it owns (publishing them when
        distributed) and reads the others'; every rank then computes the
        same pooled cut-off, and the same ``M`` of each label value from
        that label's burn-in (as the official code), from the same numbers.

        Returns:
            dict: ``statistic``, ``conditions`` and ``ratios`` of all
            burn-in candidates, in label order, and the labels' draws this
            rank holds in memory (``draws``).
        """
        draws = {}
        for c in range(self.num_conditions):
            name = f'burn_in_{c:05d}.npz'
            if self.owner(c) != self.rank or (
                    self.staging is not None and self.staging.exists(name)):
                continue
            draw = self._burn_in_draw(c)
            draws[c] = draw
            if self.staging is not None:
                extra = {} if draw['ratios'] is None else dict(
                    ratios=draw['ratios'])
                self.staging.save(
                    name,
                    statistic=draw['statistic'],
                    images=draw['images'],
                    outputs=draw['outputs'],
                    **extra)
        stats, ratios = [], []
        for c in range(self.num_conditions):
            if c in draws:
                record = draws[c]
            else:
                record = self.staging.wait_for(
                    f'burn_in_{c:05d}.npz', f'the burn-in of label {c}',
                    fields=('statistic', 'ratios'))
            stats.append(record['statistic'])
            if self.dre is not None:
                ratios.append(record['ratios'])
        statistic = np.concatenate(stats)
        conditions = np.repeat(np.arange(self.num_conditions),
                               [len(s) for s in stats])
        self.cutoffs = cutoffs_from_burn_in(
            statistic, conditions, self.num_conditions, self.filter_quantile,
            self.filter_threshold, per_condition=False)
        all_ratios = None
        if self.dre is not None:
            all_ratios = np.concatenate(ratios)
            self.max_ratios = estimate_max_ratios(ratios)
        self.burn_in_statistic = statistic
        self.burn_in_conditions = conditions
        return dict(statistic=statistic, conditions=conditions,
                    ratios=all_ratios, draws=draws)

    def _regression_burn_in_keep(self, pooled: Dict) -> np.ndarray:
        """Which pooled burn-in candidates pass, in the chunk's order.

        The pooled draw is shuffled (seeded) before it is cut at the
        quota, so a bank filled by the burn-in alone still spans the grid.
        """
        keep = self._keep(
            pooled,
            np.random.default_rng([self.seed, _BURN_IN_CHUNK_STREAM]))
        perm = np.random.default_rng(
            [self.seed, _BURN_IN_CHUNK_STREAM, 1]).permutation(len(keep))
        return perm[keep[perm]]

    def run_burn_in(self) -> None:
        """Draw every condition's burn-in; set the cut-offs (and ``M``)."""
        if self.is_regression:
            self._regression_burn_in()
        else:
            for c in range(self.num_conditions):
                self._class_burn_in(c, need_chunk=True)
            self._gather_statistics()

    def _gather_statistics(self) -> None:
        """Every class's burn-in statistic, for the meta and histogram."""
        for c in range(self.num_conditions):
            if c not in self._statistics:
                record = self.staging.wait_for(
                    f'burn_in_{c:05d}.npz', f'the burn-in of class {c}')
                self._statistics[c] = record['statistic']
                self.cutoffs[c] = float(record['cutoff'])
                self.max_ratios[c] = float(record['max_ratio'])
        stats = [self._statistics[c] for c in range(self.num_conditions)]
        self.burn_in_statistic = np.concatenate(stats)
        self.burn_in_conditions = np.repeat(
            np.arange(self.num_conditions), [len(s) for s in stats])

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
        self.staging.save(
            name, candidates=np.int64(candidates), rank=np.int64(self.rank),
            **chunk)
        self._count(candidates, len(chunk['images']), self.rank)

    def _take_staged(self, name: str, what: str,
                     wait: bool) -> Optional[tuple]:
        """A staged round: ``(chunk, candidates, rank)``, or None."""
        if wait:
            data = self.staging.wait_for(name, what)
        else:
            data = self.staging.load(name) if self.staging else None
            if data is None:
                return None
        chunk = {k: data[k] for k in _CHUNK_FIELDS if k in data}
        return chunk, int(data['candidates']), int(data['rank'])

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

    # --------------------------------------------------------- classification
    def _class_stream(self, c: int, committed: List[int],
                      emit: Callable[[int, Dict, int], int]) -> None:
        """Run class ``c``'s stream after its ``committed`` chunks.

        Args:
            c (int): The class.
            committed (list[int]): Sizes of its chunks already on disk.
            emit (callable): ``emit(j, chunk, candidates)`` commits chunk
                ``j`` of the stream and returns the samples it added.
        """
        quota = int(self.quotas[c])
        chunk = self._class_burn_in(c, need_chunk=quota > 0 and not committed)
        if quota == 0:
            return
        if not committed:
            committed = [emit(0, self._cut(chunk, quota), self.burn_in)]
        schedule = RoundSchedule(quota, committed[0], self.burn_in,
                                 self.batch_size)
        schedule.replay(committed[1:])
        while not schedule.done:
            k, size = schedule.rounds, schedule.next_size()
            staged = self._take_staged(self._class_chunk_name(c, k + 1), '',
                                       wait=False)
            if staged is not None:  # drawn by a rank of an earlier session
                chunk, size = staged[0], staged[1]
            else:
                chunk = self._round(c, k, size)
            got = emit(k + 1, self._cut(chunk, schedule.remaining), size)
            schedule.record(size, got)
            self._check_stall(schedule, f'condition {c}')

    @staticmethod
    def _class_chunk_name(c: int, j: int) -> str:
        return f'class_{c:05d}_chunk_{j:06d}.npz'

    def _staged_class_sizes(self, c: int) -> List[int]:
        """Sizes of class ``c``'s chunks in the staging folder, in order."""
        sizes = []
        while True:
            data = self.staging.load(
                self._class_chunk_name(c, len(sizes)), fields=('cond_labels',
                                                               ))
            if data is None:
                return sizes
            sizes.append(len(data['cond_labels']))

    def _class_sizes(self, writer: BankWriter) -> List[List[int]]:
        """The chunk sizes of each class's stream the writer holds."""
        if writer.is_full:  # also when only finalize's swap is left
            return [[int(q)] for q in self.quotas]
        return split_by_quota(_committed_sizes(writer), self.quotas)

    def _progress(self, writer: BankWriter) -> dict:
        """What the writer holds, as helpers read it in ``progress.json``."""
        if self.is_regression:
            sizes = _committed_sizes(writer)
            return dict(rounds_done=max(0, len(sizes) - 1),
                        full=writer.is_full)
        done = 0
        for q, sizes in zip(self.quotas, self._class_sizes(writer)):
            if sum(sizes) < q:
                break
            done += 1
        return dict(classes_done=done)

    def _fill_classes(self, writer: BankWriter) -> None:
        """The writer's side: every class's stream, in class order."""
        sizes = self._class_sizes(writer)

        def to_writer(j, chunk, candidates):
            return self._commit(writer, chunk, candidates, self.rank)

        for c in range(self.num_conditions):
            if self.owner(c) == self.rank:
                self._class_stream(c, sizes[c], to_writer)
            else:
                j, filled = len(sizes[c]), sum(sizes[c])
                while filled < self.quotas[c]:
                    chunk, candidates, rank = self._take_staged(
                        self._class_chunk_name(c, j),
                        f'rank {self.owner(c)} (class {c}, chunk {j})',
                        wait=True)
                    filled += self._commit(writer, chunk, candidates, rank)
                    j += 1
            if self.staging is not None:
                self.staging.write_json(PROGRESS_FILE,
                                        dict(classes_done=c + 1))
                j = 0
                while self.staging.exists(self._class_chunk_name(c, j)):
                    self.staging.discard(self._class_chunk_name(c, j))
                    j += 1
        self._gather_statistics()

    def _help_classes(self) -> None:
        """A helper rank's side: its classes' streams, into staging."""
        for c in range(self.rank, self.num_conditions, self.world_size):
            staged = self._staged_class_sizes(c)
            # read after the listing: the writer discards a class's chunks
            # once it has written that the class is done
            progress = self.staging.read_json(PROGRESS_FILE) or {}
            if (progress.get('classes_done', 0) > c
                    or sum(staged) >= self.quotas[c]):
                self._class_burn_in(c, need_chunk=False)  # its record
                continue

            def to_staging(j, chunk, candidates, c=c):
                self._stage(self._class_chunk_name(c, j), chunk, candidates)
                return len(chunk['images'])

            self._class_stream(c, staged, to_staging)

    # ------------------------------------------------------------ regression
    def _regression_plan(self, pooled: Dict) -> tuple:
        """The pooled burn-in's kept candidates and the round schedule."""
        order = self._regression_burn_in_keep(pooled)
        schedule = RoundSchedule(self.num_fake, len(order),
                                 len(pooled['statistic']), self.batch_size)
        return order, schedule

    def _burn_in_chunk(self, pooled: Dict, order: np.ndarray) -> Dict:
        """The regression burn-in chunk (rank 0 reads the others' draws)."""
        images, outputs = [], []
        for c in range(self.num_conditions):
            draw = pooled['draws'].get(c)
            if draw is None:
                draw = self.staging.load(f'burn_in_{c:05d}.npz',
                                         fields=('images', 'outputs'))
            images.append(draw['images'])
            outputs.append(draw['outputs'])
        draw = dict(conditions=pooled['conditions'],
                    images=np.concatenate(images),
                    outputs=np.concatenate(outputs))
        return self._cut(self._chunk(draw, order), self.num_fake)

    @staticmethod
    def _round_name(r: int) -> str:
        return f'round_{r:06d}.npz'

    def _fill_regression(self, writer: BankWriter) -> None:
        """The writer's side: the burn-in chunk, then the rounds in order."""
        pooled = self._regression_burn_in()
        order, schedule = self._regression_plan(pooled)
        sizes = ([self.num_fake]
                 if writer.is_full else _committed_sizes(writer))
        if not sizes:
            burn = self._burn_in_chunk(pooled, order)
            sizes = [self._commit(writer, burn, len(pooled['statistic']),
                                  self.rank)]
        schedule.replay(sizes[1:])
        while not schedule.done:
            k, size = schedule.rounds, schedule.next_size()
            planned = k < len(schedule.plan)
            staged = None
            if self.staging is not None:
                staged = self._take_staged(
                    self._round_name(k),
                    f'rank {self.owner(k)} (round {k})',
                    wait=planned and self.owner(k) != self.rank)
            if staged is not None:
                chunk, size, rank = staged
            else:
                chunk, rank = self._round(0, k, size), self.rank
            room = schedule.remaining
            got = self._commit(writer, self._cut(chunk, room), size, rank)
            schedule.record(size, got)
            if self.staging is not None:
                self.staging.write_json(
                    PROGRESS_FILE,
                    dict(rounds_done=k + 1, full=schedule.done))
                self.staging.discard(self._round_name(k))
            self._check_stall(schedule, 'any label')

    def _help_regression(self) -> None:
        """A helper rank's side: its share of the planned rounds."""
        pooled = self._regression_burn_in()
        _, schedule = self._regression_plan(pooled)
        for k in range(self.rank, len(schedule.plan), self.world_size):
            progress = self.staging.read_json(PROGRESS_FILE) or {}
            if progress.get('full'):
                break
            name = self._round_name(k)
            if progress.get('rounds_done', 0) > k or self.staging.exists(
                    name):
                continue
            size = schedule.size_of(k)
            self._stage(name, self._round(0, k, size), size)

    # ----------------------------------------------------------------- build
    def build(self,
              bank_dir: str,
              key: str,
              settings: dict,
              real_images: Optional[torch.Tensor] = None,
              real_labels: Optional[torch.Tensor] = None
              ) -> Optional[SyntheticBank]:
        """Build (or finish building) the bank at ``bank_dir``.

        In a distributed build every rank calls this; rank 0 returns the
        bank, the others return None once their share is staged (they
        should then wait for rank 0, e.g. on a file it writes afterwards).

        Args:
            bank_dir (str): Where the bank goes.
            key (str): The bank's key (hash of weights and settings).
            settings (dict): Recorded in the bank's meta.
            real_images (torch.Tensor, optional): uint8 real images, needed
                by cDR-RS (on rank 0).
            real_labels (torch.Tensor, optional): Their GAN labels.

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
                return self._build_as_writer(bank_dir, key, settings,
                                             real_images, real_labels)
            self._build_as_helper()
            return None
        except BaseException as err:
            if self.staging is not None:
                self.staging.fail(err)
            raise

    def _build_as_writer(self, bank_dir, key, settings, real_images,
                         real_labels) -> SyntheticBank:
        probs = (None if self.relabel != 'soft' else self.num_conditions)
        image_shape = (self.gan.img_channels, self.gan.img_size,
                       self.gan.img_size)
        writer = BankWriter(
            bank_dir, key, self.num_fake, image_shape,
            label_dtype='float32' if self.is_regression else 'int64',
            num_soft_classes=probs, settings=settings)
        if writer.num_committed:
            self.log(f'bank: resuming a partial build, '
                     f'{writer.num_committed}/{self.num_fake} already on '
                     'disk')
        if self.staging is not None:
            self.staging.prepare(self._progress(writer))
        resumed_at = writer.num_committed
        self._setup_subsampler(real_images, real_labels)
        self._bank_progress = ProgressLog(
            'bank:', self.num_fake, self.log, unit='img',
            start=writer.num_committed, min_interval=10)
        if self.is_regression:
            self._fill_regression(writer)
        else:
            self._fill_classes(writer)
        elapsed = time.time() - self._started
        accepted = self.num_fake - resumed_at
        meta = dict(
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

    def _build_as_helper(self) -> None:
        self.staging.wait_ready()
        self._setup_subsampler(None, None)
        if self.is_regression:
            self._help_regression()
        else:
            self._help_classes()
        self.staging.mark_done()
        self.log(f'bank: rank {self.rank}/{self.world_size} staged '
                 f'{self.num_accepted} samples from {self.num_candidates} '
                 'candidates')

    def filter_summary(self) -> Dict[str, object]:
        """The burn-in statistic, cut-offs and kept share (histogram)."""
        kept = self.burn_in_statistic <= self.cutoffs[self.burn_in_conditions]
        return dict(
            statistic=self.burn_in_statistic,
            cutoffs=self.cutoffs,
            kept_fraction=float(np.mean(kept)))
