# Copyright (c) cgankd_plugin contributors.
"""How the shard of one condition is sampled: burn-in, then rounds.

A condition's shard opens with the candidates of its burn-in draw that
pass the filter (and cDR-RS): the burn-in is not thrown away. The
burn-in's acceptance then plans rounds of candidates expected to fill the
rest of the quota, with a two-sigma binomial margin (:func:`plan_rounds`);
if they fall short (rarely), top-up rounds follow, each sized the same
way on the acceptance observed so far (:func:`top_up_size`). Round ``k``
of condition ``c`` is seeded by ``(seed, c, k)``, its size a function of
the burn-in and the rounds before it: the shard depends on the seed and
the condition only.
"""
import math
from typing import Dict, List, Optional

import numpy as np
import torch

from ..density_ratio import rejection_sample
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


class SamplingMixin:
    """The draws of :class:`BaseBankBuilder` and the sampling of a shard.

    It reads the builder's ``gan``, ``teacher``, ``gan_labels``,
    ``bank_labels``, ``quotas``, ``cutoffs``, ``max_ratios``, ``dre``,
    ``seed``, ``batch_size`` and ``max_rounds``, and records its work in
    ``draws`` and ``rounds``. The task supplies :meth:`_statistic` and
    :meth:`_relabel`.
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
        return dict(
            conditions=conditions,
            images=images.numpy(),
            outputs=outputs.cpu().numpy(),
            statistic=self._statistic(outputs.cpu(), conditions),
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
        """The samples of the candidates ``order`` (indices), relabelled."""
        out = dict(
            images=draw['images'][order],
            cond_labels=self.bank_labels[draw['conditions'][order]])
        self._relabel(out, torch.from_numpy(draw['outputs'][order]))
        return out

    def _round(self, condition: int, index: int,
               size: int) -> Dict[str, np.ndarray]:
        """Round ``index`` of ``condition``: ``size`` candidates, filtered.

        Returns:
            dict[str, np.ndarray]: The round's accepted samples.
        """
        conditions = np.full(size, condition)
        draw = self._draw(
            conditions, seeded(self.seed, ROUND_STREAM, condition, index))
        keep = self._keep(
            draw,
            np.random.default_rng([self.seed, ROUND_STREAM, condition,
                                   index]))
        return self._chunk(draw, np.flatnonzero(keep))

    def _fill_condition(self, c: int, draw: Dict) -> Dict[str, np.ndarray]:
        """The shard of condition ``c``: its burn-in survivors, then rounds.

        Args:
            c (int): The condition.
            draw (dict): Its burn-in draw (``images``, ``outputs``,
                ``statistic`` and, with cDR-RS, ``ratios``).

        Returns:
            dict[str, np.ndarray]: ``quotas[c]`` samples (the bank's arrays)
            and ``rounds``, the ``[candidates, accepted]`` of each round.

        Raises:
            RuntimeError: after ``max_rounds_per_condition`` rounds in a
                row that accepted nothing.
        """
        quota = int(self.quotas[c])
        draw = dict(draw)
        draw.update(
            conditions=np.full(len(draw['statistic']), c),
            ratios=draw.get('ratios'))
        keep = self._keep(draw,
                          np.random.default_rng([self.seed, BURN_IN_STREAM,
                                                 c]))
        parts = [self._chunk(draw, np.flatnonzero(keep)[:quota])]
        filled, candidates = len(parts[0]['images']), len(keep)
        rounds = self.rounds[c] = [[candidates, filled]]
        plan = plan_rounds(quota - filled, filled, candidates,
                           self.batch_size)
        stalled = 0
        while filled < quota:
            k = len(rounds) - 1
            size = plan[k] if k < len(plan) else top_up_size(
                quota - filled, filled, candidates, self.batch_size)
            chunk = self._round(c, k, size)
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
        return shard
