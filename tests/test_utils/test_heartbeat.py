# Copyright (c) cgankd_plugin contributors.
"""Rank 0's heartbeat: beats from progress lines; a silent one fails waits.

Deterministic: file ages are set with ``os.utime`` and the clock is
patched, nothing sleeps and waits for a deadline.
"""
import os
import time

import pytest

from cgankd_plugin.utils import heartbeat
from cgankd_plugin.utils.heartbeat import (Heartbeat, RankHungError,
                                           WatchHeartbeat, wait_for_file)
from cgankd_plugin.utils.progress import ProgressLog


class _Logger:

    def info(self, msg):
        pass


def _age(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_progress_lines_beat_inside_a_heartbeat(tmp_path):
    path = str(tmp_path / 'pulse.json')
    with Heartbeat(path, interval=0.0):
        assert os.path.exists(path)  # the first beat on entry
        _age(path, 500)
        ProgressLog('cGAN: iter', 10, lambda line: None).update(1)
        assert time.time() - os.stat(path).st_mtime < 100
    _age(path, 500)
    heartbeat.beat()  # outside the context: nothing is written
    assert time.time() - os.stat(path).st_mtime > 400


def test_a_silent_heartbeat_fails_the_wait_with_the_knob(tmp_path):
    path = str(tmp_path / 'pulse.json')
    Heartbeat(path).beat(force=True)
    _age(path, 120)
    with WatchHeartbeat(path, timeout=300, knob='CGANHook.wait_timeout'):
        heartbeat.check()  # 2 min of silence is within 5 min
    with WatchHeartbeat(path, timeout=60, knob='CGANHook.wait_timeout'):
        with pytest.raises(RankHungError) as err:
            wait_for_file(str(tmp_path / 'never.json'), _Logger().info, 0.0)
    msg = str(err.value)
    assert 'rank 0' in msg and path in msg
    assert 'CGANHook.wait_timeout' in msg
    heartbeat.check()  # no watch left active


def test_no_beat_at_all_counts_from_the_start_of_the_wait(
        tmp_path, monkeypatch):
    path = str(tmp_path / 'never_written.json')
    watch = WatchHeartbeat(path, timeout=60, knob='k')
    with watch:
        watch.check()  # just started
        start = watch._started
        monkeypatch.setattr(heartbeat.time, 'time', lambda: start + 61)
        with pytest.raises(RankHungError, match='no beat at all'):
            watch.check()


def test_the_writer_waiting_for_its_helpers_keeps_beating(tmp_path):
    """Rank 0 polling for the helpers' files is alive: its wait beats, so
    helpers with a long share do not take it for hung."""
    from cgankd_plugin.synthesis.bank_staging import BankStaging
    path = str(tmp_path / 'pulse.json')
    staging = BankStaging(str(tmp_path / 'bank'), 'key', 's', 0, 0.0,
                          lambda line: None)
    polls = []
    with Heartbeat(path, interval=0.0):
        _age(path, 500)
        staging.wait_until(lambda: polls.append(1) or len(polls) > 2,
                           'the helpers', check_failures=False)
    assert time.time() - os.stat(path).st_mtime < 100


def test_wait_until_polls_its_checks_and_says_what_it_waits_for(
        monkeypatch):
    """The one wait loop: it ends when ``done`` holds, runs the extra check
    at every poll and logs what it waits for (the clock is patched)."""
    polls, lines, now = [], [], [1000.0]
    monkeypatch.setattr(heartbeat.time, 'time', lambda: now[0])

    def sleep(seconds):
        now[0] += 200.0

    monkeypatch.setattr(heartbeat.time, 'sleep', sleep)
    heartbeat.wait_until(lambda: len(polls) == 3, 'the writer', lines.append,
                         poll=0.0, also_check=lambda: polls.append(1))
    assert len(polls) == 3
    # polls at 200, 400 and 600 s: one line, at 400 s (300 s apart at
    # least)
    assert lines == ['waiting for the writer (7 min)']

    def failing():
        raise RuntimeError('rank 1 failed')

    with pytest.raises(RuntimeError, match='rank 1 failed'):
        heartbeat.wait_until(lambda: False, 'x', lines.append, poll=0.0,
                             also_check=failing)
