# Copyright (c) cgankd_plugin contributors.
"""Generate, subsample, filter, relabel and store the synthetic bank.

The pipeline of cGAN-KD (Ding et al.), steps 2-5 of ``DESIGN.md``:

1. a burn-in draw per condition fixes the filter cut-offs (and, with
   cDR-RS, the largest density ratio ``M``);
2. rounds of ``batch_size`` candidates are drawn: for classification one
   class at a time (class 0 until its quota is full, then 1, ...), for
   regression spread over the whole label grid; each round is
   subsampled (cDR-RS), filtered by the teacher, relabelled and committed
   to disk as one chunk;
3. the chunks are assembled into the bank when every quota is full.

Every random draw of round ``r`` is seeded from ``(seed, r)`` and every
burn-in draw from ``(seed, condition)``, so a build that was killed and
restarted produces the same bank, byte for byte, as one that was not.
"""
import time
from typing import Callable, Dict, Optional

import numpy as np
import torch

from .bank_storage import BankWriter, SyntheticBank
from .density_ratio import (estimate_max_ratio, fit_density_ratio,
                            predict_density_ratio, rejection_sample)
from .layout import condition_quotas
from .teacher_adapter import TeacherAdapter
from .teacher_filter import (classification_statistic, cutoffs_from_burn_in,
                             regression_statistic)

RELABEL_MODES = ('none', 'hard', 'soft')
_BURN_IN_STREAM = 1
_ROUND_STREAM = 2
_DRE_STREAM = 3


def seeded(seed: int, *stream: int) -> torch.Generator:
    """A CPU torch generator for one named stream of a build."""
    state = np.random.SeedSequence([seed, *stream]).generate_state(2)
    value = int(state[0]) << 32 | int(state[1])
    return torch.Generator().manual_seed(value & ((1 << 63) - 1))


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float images to uint8, as they are stored and trained on."""
    return ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


class BankBuilder:
    """Build one synthetic bank from a conditional GAN and a teacher.

    Args:
        gan: A ``ClassConditionalGAN`` or ``ContinuousConditionalGAN``.
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
        batch_size (int): Candidates per round.
        seed (int): Seed of every draw.
        max_rounds_per_condition (int): Give up after this many rounds in
            a row that accepted nothing.
        log (callable, optional): Where progress lines go.
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
                 log: Optional[Callable[[str], None]] = None) -> None:
        if relabel not in RELABEL_MODES:
            raise ValueError(f'relabel must be one of {RELABEL_MODES}, got '
                             f'{relabel!r}')
        if len(gan_labels) != len(bank_labels):
            raise ValueError('gan_labels and bank_labels differ in length')
        if num_fake <= 0:
            raise ValueError(f'num_fake must be > 0, got {num_fake}')
        self.gan = gan
        self.teacher = teacher
        self.num_fake = int(num_fake)
        self.gan_labels = gan_labels
        self.bank_labels = np.asarray(bank_labels)
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
        self.quotas = condition_quotas(self.num_fake, len(gan_labels))
        self.dre = None
        self.max_ratios: Optional[np.ndarray] = None
        self.cutoffs: Optional[np.ndarray] = None
        self.burn_in_statistic: Optional[np.ndarray] = None
        self.burn_in_conditions: Optional[np.ndarray] = None
        self.num_candidates = 0

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

    def _round_conditions(self, committed: int,
                          round_index: int) -> np.ndarray:
        """The condition of each candidate of a round.

        Classification fills one class at a time (the bank's per-class
        blocks). Regression spreads each round over the whole label grid
        and keeps whatever passes, so the number of samples per label
        follows acceptance (as the official code, which filters one pool):
        a label the teacher never agrees with cannot stall the build.
        """
        if self.is_regression:
            rng = np.random.default_rng(
                [self.seed, _ROUND_STREAM, round_index, 1])
            return rng.integers(0, len(self.gan_labels), self.batch_size)
        ends = np.cumsum(self.quotas)
        condition = int(np.searchsorted(ends, committed, side='right'))
        return np.full(self.batch_size, condition)

    # --------------------------------------------------------------- stages
    def fit_subsampler(self, real_images: torch.Tensor,
                       real_labels: torch.Tensor) -> None:
        """Fit the cDR-RS density-ratio model (teacher features)."""
        cfg = dict(self.subsample or {})
        num_train = int(cfg.pop('num_fake_train', len(real_images)))
        real_feats = torch.cat([
            self.teacher(real_images[i:i + self.batch_size])[0].cpu()
            for i in range(0, len(real_images), self.batch_size)
        ])
        rng = seeded(self.seed, _DRE_STREAM)
        # the real labels, cycled: every real class gets fakes to compare
        order = torch.randperm(len(real_labels), generator=rng)
        fake_labels = real_labels.cpu()[order][torch.arange(num_train) %
                                               len(real_labels)]
        fake_feats = []
        for i in range(0, num_train, self.batch_size):
            labels = fake_labels[i:i + self.batch_size].to(
                self.gan_labels.device)
            images = to_uint8(self.gan.sample(labels, rng=rng)).cpu()
            fake_feats.append(self.teacher(images)[0].cpu())
        num_classes = None if self.is_regression else len(self.gan_labels)
        self.log(f'cDR-RS: fitting the density ratio on {len(real_feats)} '
                 f'real and {num_train} fake feature vectors')
        self.dre = fit_density_ratio(
            real_feats, real_labels.cpu(), torch.cat(fake_feats), fake_labels,
            num_classes, rng=rng, log_fn=self.log, **cfg)

    def run_burn_in(self) -> None:
        """Filter cut-offs (and cDR-RS's ``M``) from a burn-in draw."""
        stats, conds, ratios = [], [], []
        for c in range(len(self.gan_labels)):
            rng = seeded(self.seed, _BURN_IN_STREAM, c)
            cond = np.full(self.burn_in, c)
            images = self._generate(cond, rng)
            feats, _, stat = self._teacher_stats(images, cond)
            stats.append(stat)
            conds.append(cond)
            if self.dre is not None:
                ratios.append(self._ratios(feats, cond))
        self.burn_in_statistic = np.concatenate(stats)
        self.burn_in_conditions = np.concatenate(conds)
        self.cutoffs = cutoffs_from_burn_in(
            self.burn_in_statistic, self.burn_in_conditions,
            len(self.gan_labels), self.filter_quantile, self.filter_threshold,
            per_condition=not self.is_regression)
        if self.dre is not None:
            if self.is_regression:
                m = estimate_max_ratio(np.concatenate(ratios))
                self.max_ratios = np.full(len(self.gan_labels), m)
            else:
                self.max_ratios = np.array(
                    [estimate_max_ratio(r) for r in ratios])

    def _accept(self, conditions: np.ndarray, round_index: int) -> Dict:
        """One round: candidates -> cDR-RS -> filter -> relabel."""
        rng = seeded(self.seed, _ROUND_STREAM, round_index)
        images = self._generate(conditions, rng)
        feats, outputs, stat = self._teacher_stats(images, conditions)
        keep = stat <= self.cutoffs[conditions]
        if self.dre is not None:
            np_rng = np.random.default_rng(
                [self.seed, _ROUND_STREAM, round_index])
            keep &= rejection_sample(
                self._ratios(feats, conditions),
                self.max_ratios[conditions], np_rng)
        idx = np.flatnonzero(keep)
        out = dict(
            images=images[idx].numpy(),
            cond_labels=self.bank_labels[conditions[idx]])
        outputs = outputs.cpu()[idx]
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

    def fill(self, writer: BankWriter) -> None:
        """Run rounds until the bank is full, resuming a partial build."""
        ends = np.cumsum(self.quotas)
        committed = writer.num_committed
        round_index = writer.num_chunks
        started, last_log = time.time(), time.time()
        stalled = 0
        while committed < self.num_fake:
            conditions = self._round_conditions(committed, round_index)
            condition = int(conditions[0])
            room = (self.num_fake - committed if self.is_regression else
                    int(ends[condition] - committed))
            chunk = self._accept(conditions, round_index)
            self.num_candidates += self.batch_size
            taken = {k: v[:room] for k, v in chunk.items()}
            writer.append_chunk(**taken)
            got = len(taken['images'])
            committed += got
            round_index += 1
            stalled = 0 if got else stalled + 1
            if stalled >= self.max_rounds:
                what = ('any label' if self.is_regression else
                        f'condition {condition}')
                raise RuntimeError(
                    f'the filter rejected every candidate of {what} in '
                    f'{stalled} rounds of {self.batch_size} draws: loosen '
                    'filter.quantile / filter.threshold or subsample, or '
                    'train the cGAN longer.')
            if time.time() - last_log > 10 or committed >= self.num_fake:
                rate = committed / max(time.time() - started, 1e-9)
                self.log(f'bank: {committed}/{self.num_fake} accepted '
                         f'(round {round_index}, {rate:.1f} img/s)')
                last_log = time.time()

    def build(self,
              bank_dir: str,
              key: str,
              settings: dict,
              real_images: Optional[torch.Tensor] = None,
              real_labels: Optional[torch.Tensor] = None) -> SyntheticBank:
        """Build (or finish building) the bank at ``bank_dir``.

        Args:
            bank_dir (str): Where the bank goes.
            key (str): The bank's key (hash of weights and settings).
            settings (dict): Recorded in the bank's meta.
            real_images (torch.Tensor, optional): uint8 real images, needed
                by cDR-RS.
            real_labels (torch.Tensor, optional): Their GAN labels.

        Returns:
            SyntheticBank: The finished bank, memory-mapped.
        """
        probs = (None if self.relabel != 'soft' else len(self.gan_labels))
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
        started, resumed_at = time.time(), writer.num_committed
        if self.subsample is not None:
            if real_images is None:
                raise ValueError('cDR-RS subsampling needs the real images')
            self.fit_subsampler(real_images, real_labels)
        self.run_burn_in()
        self.fill(writer)
        elapsed = time.time() - started
        accepted = self.num_fake - resumed_at
        meta = dict(
            build_seconds=round(elapsed, 3),
            candidates_this_session=self.num_candidates,
            acceptance_rate=(round(accepted / self.num_candidates, 4)
                             if self.num_candidates else None),
            filter_cutoffs=[float(c) for c in self.cutoffs],
            relabel=self.relabel)
        return writer.finalize(meta)

    def filter_summary(self) -> Dict[str, object]:
        """The burn-in statistic, cut-offs and kept share (histogram)."""
        kept = self.burn_in_statistic <= self.cutoffs[self.burn_in_conditions]
        return dict(
            statistic=self.burn_in_statistic,
            cutoffs=self.cutoffs,
            kept_fraction=float(np.mean(kept)))
