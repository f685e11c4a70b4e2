# Copyright (c) cgankd_plugin contributors.
"""How the shard of one condition is sampled: burn-in, then rounds.

A condition's burn-in (:meth:`SamplingMixin._burn_in`) is the draw the
filter's cut-off is set on: ``burn_in`` raw candidates, or with cDR-RS
``burn_in`` survivors of the cDR-RS sampler (whose bound ``M`` starts as
the largest ratio of ``subsample['burn_in']`` fresh fakes and rises with
every batch's largest ratio). The shard opens with the burn-in's
candidates that pass the filter: the burn-in is not thrown away. The
burn-in's acceptance then plans rounds of candidates expected to fill the
rest of the quota, with a two-sigma binomial margin (:func:`plan_rounds`);
if they fall short (rarely), top-up rounds follow, each sized the same
way on the acceptance observed so far (:func:`top_up_size`). With cDR-RS
the rounds go on raising the ``M`` the burn-in left. Every draw of
condition ``c`` is seeded by its place (``(seed, c, k)`` for its round
``k``), its size a function of the draws before it: the shard depends on
the seed and the condition only.
"""
import math
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from ..density_ratio import RejectionSampler
from .rng import BURN_IN_STREAM, ROUND_STREAM, seeded, to_uint8

MIN_ROUND_SIZE = 16


def _needed(rest: int, accepted: int, candidates: int) -> Optional[int]:
    """Candidates expected to yield ``rest`` more samples, with a margin.

    ``(rest + 2 sqrt(rest (1 - p))) / p`` with ``p`` the acceptance so
    far: two binomial standard deviations over the mean. None while
    nothing has been accepted (``p`` unknown).
    """
    if accepted <= 0 or candidates <= 0:
        return None
    p = min(1.0, accepted / candidates)
    return math.ceil((rest + 2.0 * math.sqrt(rest * (1.0 - p))) / p)


def plan_rounds(rest: int, accepted: int, candidates: int,
                batch_size: int) -> List[int]:
    """The rounds a condition plans after its burn-in.

    The candidates expected to fill the ``rest`` of the quota, at least
    ``min(batch_size, 16)`` (tiny rounds waste the generator's and the
    teacher's throughput), cut into rounds of at most ``batch_size``.

    Args:
        rest (int): Samples the burn-in left missing.
        accepted (int): Burn-in samples kept.
        candidates (int): Burn-in samples drawn.
        batch_size (int): The largest round.

    Returns:
        list[int]: The round sizes; empty when nothing is missing or
        nothing was accepted (then :func:`top_up_size` decides).
    """
    need = _needed(rest, accepted, candidates)
    if rest <= 0 or need is None:
        return []
    least = min(batch_size, MIN_ROUND_SIZE)
    full, part = divmod(max(need, least), batch_size)
    return [batch_size] * full + ([max(part, least)] if part else [])


def top_up_size(rest: int, accepted: int, candidates: int,
                batch_size: int) -> int:
    """The size of a round after the planned ones (if they fell short).

    Sized like :func:`plan_rounds` on the acceptance so far, at most
    ``batch_size``; ``batch_size`` while nothing has been accepted.
    """
    need = _needed(rest, accepted, candidates)
    if need is None:
        return batch_size
    return min(batch_size, max(min(batch_size, MIN_ROUND_SIZE), need))


def _kept(draw: Dict, index) -> Dict[str, np.ndarray]:
    """The ``images``, ``outputs`` and ``statistic`` of some candidates."""
    return {
        name: draw[name][index]
        for name in ('images', 'outputs', 'statistic')
    }


class SamplingMixin:
    """The draws of :class:`BaseBankBuilder` and the sampling of a shard.

    It reads the builder's ``gan``, ``teacher``, ``gan_labels``,
    ``bank_labels``, ``is_regression``, ``quotas``, ``cutoffs``,
    ``burn_in``, ``dre``, ``seed``, ``batch_size`` and ``max_rounds``, and
    records its work in ``draws`` and ``rounds``. The task supplies
    :meth:`_statistic` and :meth:`_relabel`.
    """

    def _statistic(self, outputs: torch.Tensor,
                   conditions: np.ndarray) -> np.ndarray:
        """The filter's statistic of each candidate (lower passes)."""
        raise NotImplementedError

    def _relabel(self, chunk: Dict[str, np.ndarray],
                 outputs: torch.Tensor) -> None:
        """Add the stored targets (``teacher_labels``...) to ``chunk``."""
        raise NotImplementedError

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
        self.draws.append(len(conditions))
        outputs = outputs.cpu()
        return dict(
            conditions=conditions,
            images=images.numpy(),
            outputs=outputs.numpy(),
            statistic=self._statistic(outputs, conditions),
            ratios=(self._ratios(feats, conditions)
                    if self.dre is not None else None))

    def _burn_in(self, c: int) -> Dict[str, np.ndarray]:
        """Condition ``c``'s burn-in: the draw its cut-off is set on.

        Without cDR-RS, ``burn_in`` candidates seeded by ``(seed, c)``;
        with it, :meth:`_subsampled_burn_in`.

        Returns:
            dict[str, np.ndarray]: The burn-in's ``images``, ``outputs``
            and ``statistic``, the ``candidates`` drawn, how many of them
            ``survivors`` cDR-RS kept (all without it) and, with cDR-RS,
            the ``max_ratio`` reached.
        """
        if self.dre is None:
            draw = self._draw(np.full(self.burn_in, c),
                              seeded(self.seed, BURN_IN_STREAM, c))
            return dict(_kept(draw, slice(None)),
                        candidates=np.int64(self.burn_in),
                        survivors=np.int64(self.burn_in))
        return self._subsampled_burn_in(c)

    def _subsampled_burn_in(self, c: int) -> Dict[str, np.ndarray]:
        """``burn_in`` survivors of condition ``c``'s cDR-RS sampler.

        Its ``M`` starts from :meth:`_max_ratio_burn_in`; rounds of
        candidates (round ``k`` seeded by ``(seed, c, k)``, sized on the
        acceptance so far) go through it until ``burn_in`` survive. It
        gives up after ``max_rounds_per_condition`` rounds in a row that
        kept nothing, or once ``M`` is 0 (every ratio so far is 0): a
        label value then has fewer burn-in samples (none: no share of the
        bank), a class stops the build.
        """
        sampler = RejectionSampler(self._max_ratio_burn_in(c))
        parts = []
        got = candidates = survivors = stalled = 0
        while got < self.burn_in:
            k, rest = len(parts), self.burn_in - got
            size = top_up_size(rest, got, candidates, self.batch_size)
            draw = self._draw(np.full(size, c),
                              seeded(self.seed, BURN_IN_STREAM, c, k))
            keep = sampler(draw['ratios'],
                           np.random.default_rng(
                               [self.seed, BURN_IN_STREAM, c, k]))
            parts.append(_kept(draw, np.flatnonzero(keep)[:rest]))
            survivors += int(keep.sum())
            kept = len(parts[-1]['statistic'])
            got, candidates = got + kept, candidates + size
            stalled = 0 if kept else stalled + 1
            if stalled >= self.max_rounds or sampler.max_ratio <= 0:
                break
        if not got and not self.is_regression:
            raise ValueError(
                f'cDR-RS kept none of the {candidates} burn-in candidates '
                f'of condition {c} (M = {sampler.max_ratio:g}): the '
                'density-ratio model collapsed. Retrain it (e.g. with a '
                'larger subsample.penalty) or set subsample=None.')
        out = {
            name: np.concatenate([p[name] for p in parts])
            for name in parts[0]
        }
        out.update(candidates=np.int64(candidates),
                   survivors=np.int64(survivors),
                   max_ratio=np.float64(sampler.max_ratio))
        return out

    def _chunk(self, draw: Dict, order: np.ndarray) -> Dict[str, np.ndarray]:
        """The samples of the candidates ``order`` (indices), relabelled."""
        out = dict(
            images=draw['images'][order],
            cond_labels=self.bank_labels[draw['conditions'][order]])
        self._relabel(out, torch.from_numpy(draw['outputs'][order]))
        return out

    def _round(self,
               condition: int,
               index: int,
               size: int,
               sampler: Optional[RejectionSampler] = None
               ) -> Tuple[Dict[str, np.ndarray], int]:
        """Round ``index`` of ``condition``: ``size`` candidates, filtered.

        Args:
            condition (int): The condition.
            index (int): The round's place after the burn-in.
            size (int): Candidates to draw.
            sampler (RejectionSampler, optional): The condition's cDR-RS
                sampler (None: cDR-RS off); its ``M`` rises with the
                round's ratios before they are sampled.

        Returns:
            tuple[dict[str, np.ndarray], int]: The round's samples that
            cDR-RS kept and the filter passed, and how many cDR-RS kept
            (``size`` without it).
        """
        conditions = np.full(size, condition)
        draw = self._draw(
            conditions, seeded(self.seed, ROUND_STREAM, condition, index))
        survived = np.ones(size, bool)
        if sampler is not None:
            survived = sampler(
                draw['ratios'],
                np.random.default_rng(
                    [self.seed, ROUND_STREAM, condition, index]))
        keep = survived & (draw['statistic'] <= self.cutoffs[condition])
        return self._chunk(draw, np.flatnonzero(keep)), int(survived.sum())

    def _fill_condition(self, c: int, draw: Dict) -> Dict[str, np.ndarray]:
        """The shard of condition ``c``: its burn-in survivors, then rounds.

        Args:
            c (int): The condition.
            draw (dict): Its burn-in (:meth:`_burn_in`: ``images``,
                ``outputs``, ``statistic``, ``candidates``, ``survivors``
                and, with cDR-RS, ``max_ratio``).

        Returns:
            dict[str, np.ndarray]: ``quotas[c]`` samples (the bank's arrays),
            ``rounds``, the ``[candidates, accepted]`` of each round, and
            ``tally``, the condition's ``[kept by cDR-RS, seen by the
            filter, passed by the filter]`` over all its candidates.

        Raises:
            RuntimeError: after ``max_rounds_per_condition`` rounds in a
                row that accepted nothing.
        """
        quota = int(self.quotas[c])
        draw = dict(draw, conditions=np.full(len(draw['statistic']), c))
        keep = np.flatnonzero(draw['statistic'] <= self.cutoffs[c])
        parts = [self._chunk(draw, keep[:quota])]
        filled, candidates = len(parts[0]['images']), int(draw['candidates'])
        # what the filter saw: cDR-RS's survivors (burn-in, then rounds)
        tally = np.array(
            [draw['survivors'], len(draw['statistic']), len(keep)], np.int64)
        sampler = (RejectionSampler(draw['max_ratio'])
                   if self.dre is not None else None)
        rounds = self.rounds[c] = [[candidates, filled]]
        plan = plan_rounds(quota - filled, filled, candidates,
                           self.batch_size)
        stalled = 0
        while filled < quota:
            k = len(rounds) - 1
            size = plan[k] if k < len(plan) else top_up_size(
                quota - filled, filled, candidates, self.batch_size)
            chunk, survived = self._round(c, k, size, sampler)
            tally += [survived, survived, len(chunk['images'])]
            got = min(len(chunk['images']), quota - filled)
            parts.append({name: v[:got] for name, v in chunk.items()})
            rounds.append([size, got])
            filled, candidates = filled + got, candidates + size
            stalled = 0 if got else stalled + 1
            if stalled >= self.max_rounds:
                raise RuntimeError(
                    f'the filter rejected every candidate of condition {c} '
                    f'in {stalled} rounds of up to {self.batch_size} draws: '
                    'loosen filter.quantile / filter.threshold or '
                    'subsample, or train the cGAN longer.')
        shard = {
            name: np.concatenate([p[name] for p in parts])
            for name in parts[0]
        }
        shard['rounds'] = np.asarray(rounds, np.int64)
        shard['tally'] = tally
        return shard
