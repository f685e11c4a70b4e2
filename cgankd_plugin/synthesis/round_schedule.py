# Copyright (c) cgankd_plugin contributors.
"""How many candidates each sampling round of a bank build draws.

A bank is filled by *streams*: one per class for classification (the
class's block of the bank), one for the whole bank for regression. A
stream's first chunk holds the samples of its burn-in draw that passed the
filter; then rounds of candidates follow until its quota is full.

The burn-in's acceptance (``accepted / candidates``) sets a *plan*: the
candidates expected to fill what is missing, plus a two-sigma binomial
margin, cut into rounds of at most ``batch_size`` (the last one smaller).
If the plan falls short (rarely), *top-up* rounds follow, each sized the
same way on the acceptance observed so far. Nothing else enters: the size
of every round is a pure function of the burn-in and of the chunk sizes
already committed, so a resumed build recomputes the same sizes, and the
plan can be handed out to several processes before any round is drawn.
"""
import math
from typing import List, Optional, Sequence

MIN_ROUND_SIZE = 16


class RoundSchedule:
    """The round sizes of one stream, and its progress.

    Args:
        quota (int): Samples the stream must deliver.
        burn_in_accepted (int): Burn-in samples that passed the filter (its
            first chunk holds ``min(burn_in_accepted, quota)`` of them).
        burn_in_candidates (int): Size of the burn-in draw.
        batch_size (int): The largest round.
        min_size (int, optional): The smallest round; defaults to
            ``min(batch_size, 16)`` (tiny batches waste the generator's and
            the teacher's throughput, and each round costs a chunk write).
    """

    def __init__(self,
                 quota: int,
                 burn_in_accepted: int,
                 burn_in_candidates: int,
                 batch_size: int,
                 min_size: Optional[int] = None) -> None:
        if batch_size <= 0:
            raise ValueError(f'batch_size must be > 0, got {batch_size}')
        self.quota = int(quota)
        self.batch_size = int(batch_size)
        self.min_size = int(
            min(batch_size, MIN_ROUND_SIZE) if min_size is None else min(
                min_size, batch_size))
        self.accepted = min(int(burn_in_accepted), self.quota)
        self.candidates = int(burn_in_candidates)
        self.rounds = 0
        self.stalled = 0
        self.plan: List[int] = self._plan()

    @property
    def remaining(self) -> int:
        """Samples still missing."""
        return self.quota - self.accepted

    @property
    def done(self) -> bool:
        """Whether the quota is full."""
        return self.accepted >= self.quota

    def _needed(self) -> Optional[int]:
        """Candidates expected to fill what is missing, with a margin.

        ``(remaining + 2 sqrt(remaining (1 - p))) / p`` with ``p`` the
        acceptance so far: two binomial standard deviations over the mean.
        None while nothing has been accepted (``p`` unknown).
        """
        if self.accepted <= 0 or self.candidates <= 0:
            return None
        p = min(1.0, self.accepted / self.candidates)
        rest = self.remaining
        return math.ceil((rest + 2.0 * math.sqrt(rest * (1.0 - p))) / p)

    def _plan(self) -> List[int]:
        needed = self._needed()
        if self.done or needed is None:
            return []
        needed = max(needed, self.min_size)
        full, rest = divmod(needed, self.batch_size)
        return [self.batch_size] * full + ([max(rest, self.min_size)]
                                           if rest else [])

    def size_of(self, index: int) -> int:
        """The size of planned round ``index`` (``index < len(plan)``)."""
        return self.plan[index]

    def next_size(self) -> int:
        """The size of the next round (round ``self.rounds``)."""
        if self.rounds < len(self.plan):
            return self.plan[self.rounds]
        needed = self._needed()
        if needed is None:
            return self.batch_size
        return min(self.batch_size, max(self.min_size, needed))

    def record(self, size: int, accepted: int) -> None:
        """Account for a round of ``size`` candidates.

        Args:
            size (int): Candidates the round drew.
            accepted (int): Samples it committed (cut at the quota).
        """
        self.candidates += int(size)
        self.accepted += min(int(accepted), self.remaining)
        self.rounds += 1
        self.stalled = 0 if accepted else self.stalled + 1

    def replay(self, committed: Sequence[int]) -> None:
        """Catch up with rounds already committed (a resumed build).

        Args:
            committed (Sequence[int]): The sizes of the stream's round chunks
                on disk, in order (the burn-in chunk excluded).
        """
        for accepted in committed:
            self.record(self.next_size(), accepted)
