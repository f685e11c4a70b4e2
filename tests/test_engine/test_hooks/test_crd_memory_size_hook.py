# Copyright (c) cgankd_plugin contributors.
"""CRDMemorySizeHook fits the CRD memory bank to the training set."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmpretrain.datasets import BaseDataset
from mmpretrain.structures import DataSample

from cgankd_plugin.datasets.crd_contrast_dataset import CRDContrastDataset
from cgankd_plugin.engine.hooks.crd_memory_size_hook import \
    CRDMemorySizeHook
from cgankd_plugin.registry import HOOKS, MODELS

NUM_SAMPLES = 30


class _ListDataset(BaseDataset):
    """``NUM_SAMPLES`` tiny samples over three classes."""

    def __init__(self) -> None:
        super().__init__(ann_file='')

    def load_data_list(self):
        return [
            dict(img=np.zeros((2, 2, 3), np.uint8), gt_label=i % 3)
            for i in range(NUM_SAMPLES)
        ]


class _Logger:

    def __init__(self) -> None:
        self.lines = []

    def info(self, msg: str) -> None:
        self.lines.append(msg)


def _runner(sample_n: int, loss_neg: int = 4, data_neg: int = 4):
    model = torch.nn.Module()
    model.loss_crd = MODELS.build(
        dict(
            type='WeightedCRDLoss',
            loss_weight=0.8,
            dim_out=8,
            neg_num=loss_neg,
            sample_n=sample_n,
            temperature=0.1,
            momentum=0.3))
    dataset = CRDContrastDataset(
        dataset=_ListDataset(), neg_num=data_neg, percent=1.0)
    return SimpleNamespace(
        model=model,
        train_dataloader=SimpleNamespace(dataset=dataset),
        logger=_Logger())


def _forward_last_sample(loss) -> torch.Tensor:
    sample = DataSample()
    idx = NUM_SAMPLES - 1
    sample.set_field(torch.tensor(idx), 'sample_idx')
    sample.set_field(torch.tensor([idx, 0, 1, 2, 3]), 'contrast_sample_idxs')
    feats = torch.nn.functional.normalize(torch.randn(1, 8), dim=1)
    return loss(feats, feats.clone(), [sample])


@pytest.mark.parametrize('sample_n', [10, 50000])
def test_memory_is_resized_to_the_training_set(sample_n):
    runner = _runner(sample_n)
    loss = runner.model.loss_crd
    if sample_n < NUM_SAMPLES:  # what the hook prevents: a mid-run crash
        with pytest.raises(IndexError):
            _forward_last_sample(loss)
    HOOKS.build(dict(type='CRDMemorySizeHook')).before_run(runner)
    assert loss.contrast.memory_v1.shape == (NUM_SAMPLES, 8)
    assert loss.contrast.memory_v2.shape == (NUM_SAMPLES, 8)
    assert loss.contrast.n_sample == NUM_SAMPLES
    assert loss.criterion_s_t.n_data == NUM_SAMPLES
    neg, temp, z_s, z_t, momentum = loss.contrast.params.tolist()
    assert (neg, z_s, z_t) == (4, -1, -1)
    assert temp == pytest.approx(0.1) and momentum == pytest.approx(0.3)
    assert loss.loss_weight == 0.8
    assert any(f'resized from {sample_n} to {NUM_SAMPLES}' in line
               for line in runner.logger.lines), runner.logger.lines
    assert torch.isfinite(_forward_last_sample(loss)).all()


def test_matching_memory_is_left_alone():
    runner = _runner(NUM_SAMPLES)
    memory = runner.model.loss_crd.contrast
    CRDMemorySizeHook().before_run(runner)
    assert runner.model.loss_crd.contrast is memory
    assert runner.logger.lines == []


def test_without_resize_a_mismatch_is_an_error():
    runner = _runner(50000)
    with pytest.raises(ValueError, match='sample_n=50000') as err:
        CRDMemorySizeHook(resize=False).before_run(runner)
    assert str(NUM_SAMPLES) in str(err.value)
    assert runner.model.loss_crd.contrast.n_sample == 50000


def test_neg_num_mismatch_is_an_error():
    runner = _runner(NUM_SAMPLES, loss_neg=4, data_neg=6)
    with pytest.raises(ValueError, match='neg_num=4') as err:
        CRDMemorySizeHook().before_run(runner)
    assert 'train_dataloader.dataset.neg_num' in str(err.value)
    assert '6' in str(err.value)


def test_model_without_crd_loss_is_untouched():
    runner = _runner(NUM_SAMPLES)
    runner.model = torch.nn.Linear(2, 2)
    CRDMemorySizeHook(resize=False).before_run(runner)
    assert runner.logger.lines == []
