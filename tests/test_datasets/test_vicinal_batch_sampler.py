# Copyright (c) cgankd_plugin contributors.
import numpy as np
import pytest
import torch
from mmengine.dataset import BaseDataset, DefaultSampler

from cgankd_plugin.datasets import VicinalDataset
from cgankd_plugin.datasets.samplers import VicinalBatchSampler
from cgankd_plugin.models.generators.vicinity import (rule_of_thumb_kappa,
                                                      rule_of_thumb_sigma)

AGES = np.array([1, 1, 2, 3, 5, 8, 8, 8, 13, 21, 30, 40], dtype=float)


class _Ages(BaseDataset):
    """Tiny grey images whose pixel value is the sample's index."""

    METAINFO = dict(normalization_range=(0.0, 40.0))

    def load_data_list(self):
        return [
            dict(img=np.full((8, 8), i, np.uint8), gt_value=float(age))
            for i, age in enumerate(AGES)
        ]


def make_set(ages=None):
    dataset = _Ages(pipeline=[dict(type='mmpretrain.PackInputs')],
                    serialize_data=False)
    if ages is not None:
        for info, age in zip(dataset.data_list, ages):
            info['gt_value'] = float(age)
    return VicinalDataset(dataset)


def make_sampler(dataset=None, **kwargs):
    dataset = dataset or make_set()
    kwargs.setdefault('seed', 3)
    return VicinalBatchSampler(
        DefaultSampler(dataset, shuffle=False), batch_size=16, **kwargs)


def test_labels_are_normalised_by_the_sets_range():
    dataset = make_set()
    assert torch.allclose(dataset.labels,
                          torch.tensor(AGES / 40.0, dtype=torch.float64))
    with pytest.raises(ValueError, match='outside label_range'):
        make_set(AGES * 2).labels
    with pytest.raises(ValueError, match='label_range is needed'):
        VicinalDataset(
            _Ages(metainfo=dict(normalization_range=None), pipeline=[]))


def test_hard_draws_lie_in_the_vicinity_of_their_targets():
    dataset = make_set()
    sampler = make_sampler(dataset, vicinity='hard', kappa=-2)
    labels = dataset.labels
    assert sampler.kappa == pytest.approx(rule_of_thumb_kappa(labels, 2.0))
    assert sampler.sigma == pytest.approx(rule_of_thumb_sigma(labels))
    for batch in (sampler.draw(0), sampler.draw(7)):
        assert len(batch) == 16
        for index, draws in batch:
            target = draws['vicinal_target']
            assert abs(float(labels[index]) - target) <= sampler.kappa
            assert abs(draws['fake_label'] - target) <= sampler.kappa + 1e-12
            assert 0.0 <= draws['fake_label'] <= 1.0
            assert draws['real_weight'] == draws['fake_weight'] == 1.0


def test_soft_weights_and_reproducible_streams():
    sampler = make_sampler(vicinity='soft', kappa=-2)
    batch = sampler.draw(2)
    labels = make_set().labels
    for index, draws in batch:
        expected = np.exp(-sampler.nu * (float(labels[index]) -
                                         draws['vicinal_target'])**2)
        assert draws['real_weight'] == pytest.approx(expected)
        assert 0.0 < draws['fake_weight'] <= 1.0
    # batch b is the same draw whenever it is asked for; others differ
    assert make_sampler(vicinity='soft', kappa=-2).draw(2) == batch
    assert sampler.draw(3) != batch
    assert make_sampler(vicinity='soft', kappa=-2, seed=4).draw(2) != batch
    stream = iter(make_sampler(vicinity='soft', kappa=-2))
    assert [next(stream) for _ in range(3)][2] == batch
    # each rank draws its own batches (the rank is read when it is built)
    other_rank = make_sampler(vicinity='soft', kappa=-2)
    other_rank.rank = 1
    assert other_rank.draw(2) != batch


def test_items_bring_their_draws_to_the_data_sample():
    dataset = make_set()
    index, draws = make_sampler(dataset).draw(0)[0]
    sample = dataset[(index, draws)]
    assert int(sample['inputs'][0, 0, 0]) == index
    assert sample['data_samples'].metainfo['vicinal_target'] == \
        draws['vicinal_target']
    plain = dataset[index]
    assert 'vicinal_target' not in plain['data_samples'].metainfo


def test_bad_settings_are_named():
    with pytest.raises(TypeError, match='VicinalDataset'):
        VicinalBatchSampler(
            DefaultSampler(list(range(4)), shuffle=False), batch_size=2)
    with pytest.raises(ValueError, match='vicinity'):
        make_sampler(vicinity='wide')
    with pytest.raises(ValueError, match='kappa'):
        make_sampler(kappa=0)
    unpacked = VicinalDataset(_Ages(pipeline=[]))
    with pytest.raises(KeyError, match='PackInputs'):
        unpacked[(0, dict(vicinal_target=0.5))]
