# Copyright (c) cgankd_plugin contributors.
"""The bank of a continuous-label GAN: one stream over the label grid.

The burn-in of every label value is pooled: one cut-off for the whole grid
(and, with cDR-RS, one ``M`` per label value from its own burn-in). Its
survivors, shuffled, open the bank; the planned rounds (round ``r`` seeded
by ``(seed, r)``) spread their candidates over the whole grid, so the
number of samples per label follows acceptance; top-up rounds follow in
the rare case the plan falls short. The stored target is the teacher's
value (``relabel='value'``). Distributed, rank ``r`` draws the burn-in of
the labels ``r, r + W, ...`` and the planned rounds ``r, r + W, ...``.
"""
from typing import Dict, Optional

import numpy as np
import torch

from ..bank import BankWriter
from ..bank_staging import PROGRESS_FILE, burn_in_name, round_name
from ..density_ratio import estimate_max_ratios
from ..round_schedule import RoundSchedule
from ..teacher_filter import cutoffs_from_burn_in, regression_statistic
from .base import BaseBankBuilder
from .rng import BURN_IN_CHUNK_STREAM, CONDITION_STREAM


class RegressionBankBuilder(BaseBankBuilder):
    """Build the bank of a ``ContinuousConditionalGAN`` over a label grid.

    The filter's statistic is the teacher's absolute error at the
    generating label; the ``relabel`` argument is checked but the bank
    always stores the teacher's value (``self.relabel == 'value'``). Takes
    the arguments of :class:`BaseBankBuilder`.
    """

    is_regression = True
    label_dtype = 'float32'

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.relabel = 'value'

    # ----------------------------------------------------- the task's steps
    def _statistic(self, outputs: torch.Tensor,
                   conditions: np.ndarray) -> np.ndarray:
        target = torch.as_tensor(
            self.bank_labels[conditions].astype(np.float32))
        return regression_statistic(outputs, target)

    def _relabel(self, chunk: Dict[str, np.ndarray],
                 outputs: torch.Tensor) -> None:
        chunk['teacher_labels'] = outputs.numpy().astype(np.float32)

    def _round_conditions(self, stream: int, round_index: int,
                          size: int) -> np.ndarray:
        """The label of each candidate of a round, spread over the grid.

        The round keeps whatever passes, so the number of samples per
        label follows acceptance (as the official code, which filters one
        pool): a label the teacher never agrees with cannot stall the
        build.
        """
        rng = np.random.default_rng(
            [self.seed, CONDITION_STREAM, round_index])
        return rng.integers(0, self.num_conditions, size)

    def _round_place(self, stream: int, round_index: int) -> tuple:
        return (round_index, )

    def _dre_num_classes(self) -> Optional[int]:
        return None

    def _dre_fake_labels(self, real_labels: torch.Tensor, num_train: int,
                         rng: torch.Generator) -> torch.Tensor:
        """Fake ``j`` at the label of real image ``j % N``.

        At least one fake per real image, so the model compares each real
        image with fakes of its own label.
        """
        num_train = max(num_train, len(real_labels))
        return real_labels[torch.arange(num_train) % len(real_labels)]

    def run_burn_in(self) -> None:
        """Draw every label's burn-in; set the cut-off (and ``M``)."""
        self._pooled_burn_in()

    def _progress(self, writer: BankWriter) -> dict:
        sizes = writer.chunk_sizes
        return dict(rounds_done=max(0, len(sizes) - 1), full=writer.is_full)

    # -------------------------------------------------------------- burn-in
    def _pooled_burn_in(self) -> Dict:
        """The pooled burn-in of every label value.

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
            name = burn_in_name(c)
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
                    burn_in_name(c), f'the burn-in of label {c}',
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

    def _pooled_keep(self, pooled: Dict) -> np.ndarray:
        """Which pooled burn-in candidates pass, in the chunk's order.

        The pooled draw is shuffled (seeded) before it is cut at the
        quota, so a bank filled by the burn-in alone still spans the grid.
        """
        keep = self._keep(
            pooled, np.random.default_rng([self.seed, BURN_IN_CHUNK_STREAM]))
        perm = np.random.default_rng(
            [self.seed, BURN_IN_CHUNK_STREAM, 1]).permutation(len(keep))
        return perm[keep[perm]]

    def _plan(self, pooled: Dict) -> tuple:
        """The pooled burn-in's kept candidates and the round schedule."""
        order = self._pooled_keep(pooled)
        schedule = RoundSchedule(self.num_fake, len(order),
                                 len(pooled['statistic']), self.batch_size)
        return order, schedule

    def _burn_in_chunk(self, pooled: Dict, order: np.ndarray) -> Dict:
        """The burn-in chunk (rank 0 reads the others' draws)."""
        images, outputs = [], []
        for c in range(self.num_conditions):
            draw = pooled['draws'].get(c)
            if draw is None:
                draw = self.staging.load(burn_in_name(c),
                                         fields=('images', 'outputs'))
            images.append(draw['images'])
            outputs.append(draw['outputs'])
        draw = dict(conditions=pooled['conditions'],
                    images=np.concatenate(images),
                    outputs=np.concatenate(outputs))
        return self._cut(self._chunk(draw, order), self.num_fake)

    # --------------------------------------------------------------- rounds
    def _fill(self, writer: BankWriter) -> None:
        """The writer's side: the burn-in chunk, then the rounds in order."""
        pooled = self._pooled_burn_in()
        order, schedule = self._plan(pooled)
        sizes = [self.num_fake] if writer.is_full else writer.chunk_sizes
        if not sizes:
            burn = self._burn_in_chunk(pooled, order)
            sizes = [self._commit(writer, burn, len(pooled['statistic']),
                                  self.rank)]
        schedule.replay(sizes[1:])
        while not schedule.done:
            k, size = schedule.rounds, schedule.next_size()
            planned = k < len(schedule.plan)
            wait = planned and self.owner(k) != self.rank
            staged = self._take_staged(
                round_name(k),
                f'rank {self.owner(k)} (round {k})' if wait else None)
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
                self.staging.discard(round_name(k))
            self._check_stall(schedule, 'any label')

    def _help(self) -> None:
        """A helper rank's side: its share of the planned rounds."""
        pooled = self._pooled_burn_in()
        _, schedule = self._plan(pooled)
        for k in range(self.rank, len(schedule.plan), self.world_size):
            progress = self.staging.read_json(PROGRESS_FILE) or {}
            if progress.get('full'):
                break
            name = round_name(k)
            if progress.get('rounds_done', 0) > k or self.staging.exists(
                    name):
                continue
            size = schedule.size_of(k)
            self._stage(name, self._round(0, k, size), size)
