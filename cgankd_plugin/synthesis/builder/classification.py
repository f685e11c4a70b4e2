# Copyright (c) cgankd_plugin contributors.
"""The bank of a class-conditional GAN: one stream per class.

Class ``c``'s stream fills the bank's block of class ``c``: its burn-in
draw (seeded by ``(seed, c)``) sets the class's cut-off and ``M`` and
opens the block with its survivors; rounds of candidates of class ``c``
(round ``k`` seeded by ``(seed, c, k)``) follow until the quota is full.
The stored label is the generating class (``relabel='none'``) or the
teacher's argmax (``'hard'``), with its probabilities (``'soft'``).
Distributed, rank ``r`` runs the streams of the classes ``r, r + W, ...``.
"""
from typing import Callable, Dict, List, Optional

import numpy as np
import torch

from ..bank import BankWriter
from ..bank_staging import PROGRESS_FILE, burn_in_name, class_chunk_name
from ..density_ratio import estimate_max_ratio
from ..round_schedule import RoundSchedule
from ..teacher_filter import classification_statistic, condition_cutoff
from .base import BaseBankBuilder
from .rng import BURN_IN_STREAM


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


class ClassificationBankBuilder(BaseBankBuilder):
    """Build the bank of a ``ClassConditionalGAN``, class by class.

    The filter's statistic is the teacher's cross-entropy at the generating
    class; each class has its own cut-off (and, with cDR-RS, its own
    ``M``). Takes the arguments of :class:`BaseBankBuilder`.
    """

    is_regression = False
    label_dtype = 'int64'

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # each class's burn-in statistic, as drawn or read from staging
        self._statistics: Dict[int, np.ndarray] = {}

    # ----------------------------------------------------- the task's steps
    def _statistic(self, outputs: torch.Tensor,
                   conditions: np.ndarray) -> np.ndarray:
        target = torch.as_tensor(conditions, dtype=torch.long)
        return classification_statistic(outputs, target)

    def _relabel(self, chunk: Dict[str, np.ndarray],
                 outputs: torch.Tensor) -> None:
        if self.relabel == 'none':
            chunk['teacher_labels'] = chunk['cond_labels'].astype(np.int64)
        else:
            chunk['teacher_labels'] = outputs.argmax(1).numpy().astype(
                np.int64)
        if self.relabel == 'soft':
            chunk['teacher_probs'] = outputs.softmax(1).numpy().astype(
                np.float32)

    def _round_conditions(self, stream: int, round_index: int,
                          size: int) -> np.ndarray:
        """Every candidate of a round is of the stream's class."""
        return np.full(size, stream)

    def _round_place(self, stream: int, round_index: int) -> tuple:
        return (stream, round_index)

    def _dre_num_classes(self) -> Optional[int]:
        return self.num_conditions

    def _dre_fake_labels(self, real_labels: torch.Tensor, num_train: int,
                         rng: torch.Generator) -> torch.Tensor:
        """The shuffled real labels, cycled: every real class gets fakes."""
        shuffled = real_labels[torch.randperm(len(real_labels),
                                              generator=rng)]
        return shuffled[torch.arange(num_train) % len(shuffled)]

    def run_burn_in(self) -> None:
        """Draw every class's burn-in; set the cut-offs (and ``M``)."""
        for c in range(self.num_conditions):
            self._class_burn_in(c, need_chunk=True)
        self._gather_statistics()

    def _progress(self, writer: BankWriter) -> dict:
        done = 0
        for q, sizes in zip(self.quotas, self._class_sizes(writer)):
            if sum(sizes) < q:
                break
            done += 1
        return dict(classes_done=done)

    # -------------------------------------------------------------- burn-in
    def _class_burn_in(self, c: int, need_chunk: bool) -> Optional[Dict]:
        """Cut-off and ``M`` of class ``c``; its burn-in chunk if needed.

        A distributed build keeps each class's burn-in figures in the
        staging folder, so a resumed build (or rank 0, for the bank's
        meta) need not draw it again.

        Args:
            c (int): The class.
            need_chunk (bool): Draw the burn-in to return its chunk, even
                if its figures are staged.

        Returns:
            dict, optional: The burn-in's accepted chunk (None when the
            figures were read from the staging folder).
        """
        name = burn_in_name(c)
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
            draw, np.random.default_rng([self.seed, BURN_IN_STREAM, c]))
        return self._chunk(draw, np.flatnonzero(keep))

    def _gather_statistics(self) -> None:
        """Every class's burn-in statistic, for the meta and histogram."""
        for c in range(self.num_conditions):
            if c not in self._statistics:
                record = self.staging.wait_for(
                    burn_in_name(c), f'the burn-in of class {c}')
                self._statistics[c] = record['statistic']
                self.cutoffs[c] = float(record['cutoff'])
                self.max_ratios[c] = float(record['max_ratio'])
        stats = [self._statistics[c] for c in range(self.num_conditions)]
        self.burn_in_statistic = np.concatenate(stats)
        self.burn_in_conditions = np.repeat(
            np.arange(self.num_conditions), [len(s) for s in stats])

    # -------------------------------------------------------------- streams
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
            staged = self._take_staged(class_chunk_name(c, k + 1))
            if staged is not None:  # drawn by a rank of an earlier session
                chunk, size = staged[0], staged[1]
            else:
                chunk = self._round(c, k, size)
            got = emit(k + 1, self._cut(chunk, schedule.remaining), size)
            schedule.record(size, got)
            self._check_stall(schedule, f'condition {c}')

    def _staged_class_sizes(self, c: int) -> List[int]:
        """Sizes of class ``c``'s chunks in the staging folder, in order."""
        sizes = []
        while True:
            data = self.staging.load(
                class_chunk_name(c, len(sizes)), fields=('cond_labels', ))
            if data is None:
                return sizes
            sizes.append(len(data['cond_labels']))

    def _class_sizes(self, writer: BankWriter) -> List[List[int]]:
        """The chunk sizes of each class's stream the writer holds."""
        if writer.is_full:  # also when only finalize's swap is left
            return [[int(q)] for q in self.quotas]
        return split_by_quota(writer.chunk_sizes, self.quotas)

    def _fill(self, writer: BankWriter) -> None:
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
                        class_chunk_name(c, j),
                        f'rank {self.owner(c)} (class {c}, chunk {j})')
                    filled += self._commit(writer, chunk, candidates, rank)
                    j += 1
            if self.staging is not None:
                self.staging.write_json(PROGRESS_FILE,
                                        dict(classes_done=c + 1))
                j = 0
                while self.staging.exists(class_chunk_name(c, j)):
                    self.staging.discard(class_chunk_name(c, j))
                    j += 1
        self._gather_statistics()

    def _help(self) -> None:
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
                self._stage(class_chunk_name(c, j), chunk, candidates)
                return len(chunk['images'])

            self._class_stream(c, staged, to_staging)
