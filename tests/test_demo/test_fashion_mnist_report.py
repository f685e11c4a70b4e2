# Copyright (c) cgankd_plugin contributors.
"""demo/fashion_mnist/run.py: the tables, the comparisons and the JSON."""
import pytest

from demo.fashion_mnist import run as demo
from demo.fashion_mnist.stages import STAGES


def fake_runs(**values):
    """Seeds 0, 1, 2, a record per stage: ``values[row](seed)`` for a row
    of either task, 50 for the others."""
    return {seed: {s.name: dict(row=s.row, value=values.get(
        s.row, lambda _: 50.0)(seed)) for s in STAGES} for seed in (0, 1, 2)}


def test_tables_and_json_over_seeds():
    runs = fake_runs(student=lambda seed: 80.0 + seed,
                     cgankd=lambda seed: 82.0 + 2 * seed)
    text = demo.task_tables(runs, 'classification', smoke=False)
    assert ('| Row | Top-1 (%), 10,000 test images, mean +- std over seeds '
            '0, 1, 2 | seed 0 | seed 1 | seed 2 |') in text
    assert '| student | 81.00 +- 1.00 | 80.00 | 81.00 | 82.00 |' in text
    # gains 2, 3, 4: mean 3, SE 1 / sqrt(3) = 0.58, so the gain holds
    assert '| cgankd vs student | +3.00 | 0.58 | yes |' in text
    # gains 32, 34, 36 over the real-only fine-tune (50)
    assert '| cgankd vs finetune_real | +34.00 | 1.15 | yes |' in text
    assert '| real_bank vs cgankd | -34.00 | 1.15 | no |' in text
    results = demo.task_results(runs, 'classification')
    assert results['seeds'] == [0, 1, 2] and results['split'] == 'test'
    assert results['metric'] == 'top1' and results['higher_is_better']
    assert list(results['rows']) == [
        'teacher', 'student', 'finetune_real', 'finetune_kd', 'cgankd',
        'kd_cgankd', 'real_bank'
    ]
    assert results['rows']['cgankd'] == [82.0, 84.0, 86.0]


def test_a_lower_mae_is_the_gain():
    runs = fake_runs()
    for seed, records in runs.items():
        records['cgankd_rotation']['value'] = 4.0 + seed
        records['student_rotation']['value'] = 5.0 + 3 * seed
    text = demo.task_tables(runs, 'rotation', smoke=True)
    assert 'MAE (degrees), first 200 test images' in text
    # student - cgankd: 1, 3, 5 degrees less error
    assert '| cgankd vs student | +3.00 | 1.15 | yes |' in text
    assert not demo.task_results(runs, 'rotation')['higher_is_better']


def test_one_seed_has_no_standard_error():
    runs = {0: fake_runs()[0]}
    text = demo.task_tables(runs, 'classification', smoke=False)
    assert '| student | 50.00 | 50.00 |' in text
    assert '| cgankd vs student | +0.00 | - | - |' in text


def test_the_help_prints(capsys):
    with pytest.raises(SystemExit) as done:
        demo.main(['--help'])
    assert done.value.code == 0
    assert '--quick' in capsys.readouterr().out


def test_a_real_size_beyond_the_training_set_is_refused(capsys):
    with pytest.raises(SystemExit) as done:
        demo.main(['--real-size', '60000'])
    assert done.value.code == 2
    assert '--real-size: between 1 and the 55,000' in capsys.readouterr().err


def test_the_curve_pairs_each_real_size_s_seeds(tmp_path):
    """curve.json: per real-set size, the mean paired gain and its SE
    (none for one seed); curve.png drawn; files of other tools ignored."""
    import json

    from demo.fashion_mnist.curve import write_curve
    assert write_curve(str(tmp_path)) is None  # nothing to draw yet
    runs = fake_runs(cgankd=lambda seed: 51.0 + seed,
                     kd_cgankd=lambda seed: 49.0)
    for size in (2000, 500):
        results = demo.task_results(runs if size == 2000 else {0: runs[0]},
                                    'classification', size)
        name = 'classification' + ('' if size == 2000 else f'_real_{size}')
        (tmp_path / f'{name}.json').write_text(json.dumps(results))
    (tmp_path / 'classification_old.json').write_text('{"rows": {}}')
    assert write_curve(str(tmp_path)) == str(tmp_path / 'curve.png')
    assert (tmp_path / 'curve.png').stat().st_size > 0
    small, large = json.loads(
        (tmp_path / 'curve.json').read_text())['points']
    assert small['real_size'] == 500 and large['real_size'] == 2000
    big = large['cgankd vs finetune_real']
    assert big['gain'] == pytest.approx(2.0)  # gains 1, 2, 3
    assert big['se'] == pytest.approx(1 / 3**0.5)
    assert large['kd_cgankd vs finetune_kd']['gain'] == -1.0
    assert small['cgankd vs student'] == dict(
        gain=1.0, se=None, seeds=1, per_seed=[1.0])
