# Copyright (c) cgankd_plugin contributors.
"""PackCRDInputs puts the CRD indices on the data sample as long tensors."""
import numpy as np
import pytest
import torch
from cifar_files import write_cifar100
from mmengine.dataset import pseudo_collate

from cgankd_plugin.registry import DATASETS, MODELS, TRANSFORMS


def _results(**extra) -> dict:
    results = dict(
        img=np.zeros((32, 32, 3), np.uint8), gt_label=7, img_shape=(32, 32))
    results.update(extra)
    return results


def test_packs_indices_as_long_tensors():
    pack = TRANSFORMS.build(dict(type='PackCRDInputs'))
    packed = pack(
        _results(sample_idx=5, contrast_sample_idxs=np.array([5, 1, 2, 3])))
    sample = packed['data_samples']
    assert isinstance(sample.sample_idx, torch.Tensor)
    assert sample.sample_idx.dtype == torch.long
    assert sample.sample_idx.dim() == 0 and int(sample.sample_idx) == 5
    idxs = sample.contrast_sample_idxs
    assert isinstance(idxs, torch.Tensor) and idxs.dtype == torch.long
    assert idxs.tolist() == [5, 1, 2, 3]
    assert 'sample_idx' not in sample.metainfo
    assert 'sample_idx' not in pack.meta_keys
    assert sample.gt_label.tolist() == [7]
    assert packed['inputs'].shape == (3, 32, 32)


def test_int32_contrast_indices_stay_int32():
    pack = TRANSFORMS.build(dict(type='PackCRDInputs'))
    idxs = np.array([5, 1, 2], dtype=np.int32)
    sample = pack(_results(sample_idx=5,
                           contrast_sample_idxs=idxs))['data_samples']
    assert sample.contrast_sample_idxs.dtype == torch.int32
    assert sample.contrast_sample_idxs.tolist() == [5, 1, 2]


@pytest.mark.parametrize('missing', ['sample_idx', 'contrast_sample_idxs'])
def test_missing_field_is_a_clear_key_error(missing):
    results = _results(sample_idx=0, contrast_sample_idxs=np.arange(3))
    del results[missing]
    with pytest.raises(KeyError, match='CRDContrastDataset') as err:
        TRANSFORMS.build(dict(type='PackCRDInputs'))(results)
    assert missing in str(err.value)


def test_through_the_dataset_and_crd_loss(tmp_path):
    """Unwrapped it fails clearly; wrapped, the batch feeds ``CRDLoss``."""
    root = write_cifar100(str(tmp_path), num_train=12, num_test=2)
    cifar = dict(
        type='LocalCIFAR100',
        data_root=root,
        check_md5=False,
        pipeline=[dict(type='mmrazor.PackCRDInputs')])
    with pytest.raises(KeyError, match='contrast_sample_idxs'):
        DATASETS.build(cifar)[0]
    wrapper = DATASETS.build(
        dict(type='CRDContrastDataset', dataset=cifar, neg_num=4, percent=1.0))
    batch = pseudo_collate([wrapper[i] for i in (3, 7, 11)])
    samples = batch['data_samples']
    assert [int(s.sample_idx) for s in samples] == [3, 7, 11]
    assert [int(s.contrast_sample_idxs[0]) for s in samples] == [3, 7, 11]
    loss = MODELS.build(
        dict(type='CRDLoss', dim_out=8, neg_num=4, sample_n=12))
    torch.manual_seed(0)
    value = loss(torch.randn(3, 8), torch.randn(3, 8), samples)
    assert torch.isfinite(value).all()
