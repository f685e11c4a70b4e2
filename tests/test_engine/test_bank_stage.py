# Copyright (c) cgankd_plugin contributors.
"""The bank's figures through the runner: scalars, and a WARNING when the
teacher's labels crowd into few classes."""
from types import SimpleNamespace

from cgankd_plugin.engine.bank_stage import log_bank_figures


class _Logger:

    def __init__(self):
        self.infos, self.warnings = [], []

    def info(self, msg):
        self.infos.append(msg)

    def warning(self, msg):
        self.warnings.append(msg)


class _Visualizer:

    def __init__(self):
        self.calls = []

    def add_scalars(self, scalars, step=0):
        self.calls.append((scalars, step))


class _Bank(SimpleNamespace):

    def __len__(self):
        return self.meta['num_samples']


def _runner():
    return SimpleNamespace(logger=_Logger(), visualizer=_Visualizer())


META = dict(num_samples=1000, candidates=5000, over_generation=5.0,
            cdrrs_acceptance=0.4, filter_pass_rate=0.5,
            relabel_changed=0.9, relabel='hard')


def test_a_collapsed_bank_is_a_warning_naming_classes_and_shares():
    runner = _runner()
    collapse = dict(classes=[6], shares=[1.0], fair_share=0.1,
                    entropy_ratio=0.0)
    names = [f'k{c}' for c in range(10)]
    log_bank_figures(runner, _Bank(meta=dict(META, label_collapse=collapse)),
                     names)
    (warning, ) = runner.logger.warnings
    assert 'class 6 k6 holds 100.0%' in warning
    assert 'fair share is 10.0%' in warning


def test_a_spread_bank_logs_its_figures_only():
    runner = _runner()
    scalars = log_bank_figures(
        runner, _Bank(meta=dict(META, label_collapse=None)))
    assert runner.logger.warnings == []
    assert runner.visualizer.calls == [(scalars, 0)]
    assert scalars == {
        'bank/num_samples': 1000.0, 'bank/candidates': 5000.0,
        'bank/over_generation': 5.0, 'bank/cdrrs_acceptance': 0.4,
        'bank/filter_pass_rate': 0.5, 'bank/relabel_changed': 0.9}
    (line, ) = runner.logger.infos
    assert line == ('CGANHook: bank figures: 5.00 candidates per sample, '
                    'cDR-RS kept 40.0%, the filter passed 50.0%, the '
                    'teacher relabelled 90.0%')


def test_a_bank_built_before_the_figures_logs_what_it_has():
    runner = _runner()
    old = dict(num_samples=100, candidates=400, acceptance_rate=0.25)
    assert log_bank_figures(runner, _Bank(meta=old)) == {
        'bank/num_samples': 100.0, 'bank/candidates': 400.0,
        'bank/over_generation': 4.0}
