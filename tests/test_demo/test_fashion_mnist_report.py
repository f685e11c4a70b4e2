# Copyright (c) cgankd_plugin contributors.
"""demo/fashion_mnist/report.py: the comparisons, tables and JSON."""
import pytest

from demo.fashion_mnist import report as demo
from demo.fashion_mnist.run import parse_args


def test_paired_difference_against_twice_its_standard_error():
    # gains 1, 2, 3: mean 2, SE 1/sqrt(3) = 0.577 -> holds
    diff = demo.paired_difference([81, 82, 83], [80, 80, 80], True)
    assert diff['gain'] == pytest.approx(2.0)
    assert diff['se'] == pytest.approx(1 / 3**0.5)
    assert diff['holds']
    # an MAE: lower is better, so 5 -> 4 is a gain of 1; one noisy seed
    diff = demo.paired_difference([4.0, 4.0, 6.0], [5.0, 5.0, 5.0], False)
    assert diff['gain'] == pytest.approx(1 / 3)
    assert not diff['holds']


def test_tables_and_json_over_seeds():

    def record(task, row, value):
        return dict(task=task, row=row, model=row, data='d', value=value,
                    wall_time=60.0, stage=row)

    runs = {
        seed: [record('classification', 'student', 80.0 + seed),
               record('classification', 'cgankd', 82.0 + 2 * seed),
               record('rotation', 'student', 5.0 * (seed + 1))]
        for seed in (0, 1, 2)
    }
    args = parse_args(['--seeds', '0', '1', '2'])
    text = demo.results_tables(runs, args)
    assert ('| student | student | d | 81.00 +- 1.00 | 80.00 | 81.00 | '
            '82.00 | 1m 00s |') in text
    assert '| cgankd vs student | +3.00 | 0.58 | yes |' in text
    assert 'mean +- std over seeds 0, 1, 2' in text
    assert 'MAE (degrees), 10,000 test images' in text
    results = demo.task_results(runs, 'classification', args)
    assert results == dict(
        task='classification', metric='top1', higher_is_better=True,
        split='test', seeds=[0, 1, 2],
        rows=dict(student=[80.0, 81.0, 82.0], cgankd=[82.0, 84.0, 86.0]))
