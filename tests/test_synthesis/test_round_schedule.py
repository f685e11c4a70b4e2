# Copyright (c) cgankd_plugin contributors.
"""RoundSchedule: round sizes from the burn-in and the committed chunks."""
import math

import numpy as np
import pytest

from cgankd_plugin.synthesis.builder import split_by_quota
from cgankd_plugin.synthesis.round_schedule import RoundSchedule


def test_the_plan_covers_what_is_missing_with_a_margin():
    # CIFAR-100 as shipped: quota 1000, burn-in 500 of which 450 pass
    sched = RoundSchedule(1000, 450, 500, 500)
    p = 0.9
    needed = math.ceil((550 + 2 * math.sqrt(550 * (1 - p))) / p)
    assert needed == 628  # (550 + 14.8) / 0.9
    assert sched.plan == [500, 128]
    assert sched.remaining == 550 and not sched.done
    # the expected yield covers the quota, the margin is small
    assert 550 <= p * sum(sched.plan) <= 1.05 * 550
    # bounded below: a class missing 1 sample draws the floor (16)
    assert RoundSchedule(91, 90, 100, 256).plan == [16]
    assert RoundSchedule(91, 90, 100, 4).plan == [4]


def test_a_burn_in_that_fills_the_quota_plans_nothing():
    sched = RoundSchedule(10, 45, 64, 8)
    assert sched.done and sched.plan == [] and sched.accepted == 10


def test_top_up_rounds_follow_the_observed_acceptance():
    sched = RoundSchedule(200, 90, 100, 256)
    assert sched.plan == [130]
    assert sched.next_size() == 130
    sched.record(130, 100)  # unlucky: 100 of the 110 missing
    assert sched.remaining == 10 and sched.candidates == 230
    p = 190 / 230
    expected = math.ceil((10 + 2 * math.sqrt(10 * (1 - p))) / p)
    assert sched.next_size() == max(16, expected) == 16
    # nothing accepted yet: full rounds
    empty = RoundSchedule(5, 0, 8, 4)
    assert empty.plan == [] and empty.next_size() == 4
    for _ in range(3):
        empty.record(4, 0)
    assert empty.stalled == 3
    empty.record(4, 1)
    assert empty.stalled == 0


def test_record_cuts_at_the_quota():
    sched = RoundSchedule(20, 15, 16, 8)
    sched.record(sched.next_size(), 7)
    assert sched.done and sched.accepted == 20


@pytest.mark.parametrize('quota,burn_acc,burn_n', [(200, 90, 100),
                                                   (60, 23, 32),
                                                   (13, 7, 8)])
def test_replay_gives_the_same_sizes_as_the_live_schedule(
        quota, burn_acc, burn_n):
    rng = np.random.default_rng(0)
    live = RoundSchedule(quota, burn_acc, burn_n, 8)
    committed, sizes = [], []
    while not live.done:
        size = live.next_size()
        got = int(rng.binomial(size, 0.6))
        sizes.append(size)
        committed.append(min(got, live.remaining))
        live.record(size, got)
    for cut in range(len(committed) + 1):
        resumed = RoundSchedule(quota, burn_acc, burn_n, 8)
        resumed.replay(committed[:cut])
        assert resumed.rounds == cut
        assert resumed.candidates == burn_n + sum(sizes[:cut])
        if cut < len(sizes):
            assert resumed.next_size() == sizes[cut]
        else:
            assert resumed.done


def test_split_by_quota():
    quotas = np.array([3, 0, 2, 4])
    assert split_by_quota([2, 0, 1, 2, 1, 3], quotas) == [[2, 0, 1], [],
                                                          [2], [1, 3]]
    assert split_by_quota([2, 0, 1, 1], quotas) == [[2, 0, 1], [], [1], []]
    assert split_by_quota([], quotas) == [[], [], [], []]
    with pytest.raises(ValueError, match='more samples'):
        split_by_quota([3, 2, 4, 1], quotas)
