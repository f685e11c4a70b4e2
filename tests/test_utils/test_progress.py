# Copyright (c) cgankd_plugin contributors.
"""ProgressLog: lines with counts, rate and ETA; a line at the end."""
import itertools

from cgankd_plugin.utils import progress
from cgankd_plugin.utils.progress import ProgressLog, format_duration


def test_format_duration():
    assert format_duration(5) == '0:05'
    assert format_duration(125.4) == '2:05'
    assert format_duration(3 * 3600 + 61) == '3:01:01'


def test_lines_carry_count_rate_and_eta(monkeypatch):
    clock = itertools.count(0, 10)  # each call: 10 s later
    monkeypatch.setattr(progress.time, 'time', lambda: next(clock))
    lines = []
    bar = ProgressLog('cGAN: iter', 100, lines.append, num_lines=4)
    for done in range(1, 101):
        bar.update(done, detail='loss 0.5')
    assert len(lines) == 4  # at 25, 50, 75 and the end
    assert lines[0].startswith('cGAN: iter 25/100 (25 %), 10.0 s/it, ')
    # 25 done in 250 s: 75 left at 0.1 it/s
    assert 'ETA 12:30' in lines[0] and lines[0].endswith('loss 0.5')
    assert lines[-1].startswith('cGAN: iter 100/100 (100 %)')
    assert 'done in' in lines[-1]


def test_a_resumed_loop_rates_only_its_own_work(monkeypatch):
    clock = itertools.count(0, 10)
    monkeypatch.setattr(progress.time, 'time', lambda: next(clock))
    lines = []
    bar = ProgressLog('bank:', 100, lines.append, unit='img', start=90,
                      num_lines=1)
    bar.update(100)
    assert '(100 %), 1.00 img/s' in lines[0]  # 10 images in 10 s
