# Copyright (c) cgankd_plugin contributors.
"""A bank's figures: the collapse check, its warning, old metas."""
import numpy as np

from cgankd_plugin.synthesis.builder.statistics import (BuildTally,
                                                        collapse_message,
                                                        describe,
                                                        label_collapse,
                                                        meta_figures)


def test_spread_labels_are_no_collapse():
    assert label_collapse(np.full(10, 100)) is None
    # uneven but no class past 5 fair shares, entropy high
    assert label_collapse(np.array([40, 5, 5, 5, 5, 5, 5, 5, 5, 20])) is None


def test_a_crowded_class_is_named_with_its_share():
    counts = np.full(100, 5)
    counts[[3, 42]] = [50, 60]  # 600 labels: 8.3 % and 10 %, fair 1 %
    found = label_collapse(counts)
    assert found['classes'] == [42, 3]  # the largest first
    assert found['shares'] == [0.1, 0.0833]
    assert found['fair_share'] == 0.01
    assert 0.5 < found['entropy_ratio'] < 1


def test_a_low_entropy_alone_names_the_largest_classes():
    # two classes: no share can pass 5 fair shares, the entropy can drop
    found = label_collapse(np.array([95, 5]))
    assert found['classes'] == [0, 1]
    assert found['entropy_ratio'] < 0.5


def test_the_warning_names_classes_and_shares():
    found = label_collapse(np.eye(10)[6] * 1000)
    message = collapse_message(found, [f'k{c}' for c in range(10)])
    assert 'class 6 k6 holds 100.0%' in message
    assert 'fair share is 10.0%' in message
    assert "relabel='none'" in message


def test_a_bank_of_old_records_its_samples_per_candidate():
    old = dict(num_samples=100, candidates=400, acceptance_rate=0.25)
    figures = meta_figures(old)
    assert figures['over_generation'] == 4.0
    assert figures['filter_pass_rate'] is None
    assert describe(old) == '4.00 candidates per sample'


def test_the_tally_sums_shards():
    tally = BuildTally(num_classes=3)
    for c in range(3):
        tally.add(dict(
            rounds=np.array([[8, 3], [4, 1]]),
            tally=np.array([10, 10, 5]),
            cond_labels=np.full(4, c),
            teacher_labels=np.array([c, c, c, 0])))
    figures = tally.figures(num_fake=12, subsampled=True, relabel='hard')
    assert figures == dict(
        candidates=36, over_generation=3.0, cdrrs_acceptance=0.8333,
        filter_pass_rate=0.5, relabel_changed=0.1667, label_collapse=None)
    assert 'cDR-RS kept 83.3%' in describe(figures)
