# Copyright (c) cgankd_plugin contributors.
"""CRDContrastDataset works on class-imbalanced data; mmrazor's does not."""
import numpy as np
import pytest
from cifar_files import write_cifar100
from mmpretrain.datasets import BaseDataset
from mmrazor.datasets import CRDDataset

from cgankd_plugin.datasets.crd_contrast_dataset import CRDContrastDataset
from cgankd_plugin.registry import DATASETS

# class 0 holds 3 samples, class 1 holds 1
IMBALANCED_LABELS = [0, 1, 0, 0]


class _ListDataset(BaseDataset):
    """An mmpretrain dataset whose samples come from a list of labels."""

    def __init__(self, labels, **kwargs) -> None:
        self._labels = list(labels)
        super().__init__(ann_file='', **kwargs)

    def load_data_list(self):
        return [
            dict(img=np.full((4, 4, 3), i, np.uint8), gt_label=label)
            for i, label in enumerate(self._labels)
        ]


def _check_contrast_indices(wrapper, neg_num: int) -> None:
    labels = np.asarray(wrapper.dataset.get_gt_labels())
    for idx in range(len(wrapper)):
        contrast = wrapper.get_data_info(idx)['contrast_sample_idxs']
        assert len(contrast) == neg_num + 1
        assert contrast[0] == idx
        negatives = contrast[1:]
        assert negatives.min() >= 0 and negatives.max() < len(labels)
        assert not np.any(labels[negatives] == labels[idx]), (idx, contrast)


def test_mmrazor_crd_dataset_crashes_on_imbalanced_classes():
    """Why the port exists: numpy >= 1.24 refuses the ragged arrays."""
    with pytest.raises(ValueError, match='inhomogeneous'):
        CRDDataset(
            dataset=_ListDataset(IMBALANCED_LABELS), neg_num=2, percent=1.0)


def test_builds_on_imbalanced_classes_and_draws_valid_negatives():
    wrapper = DATASETS.build(
        dict(
            type='CRDContrastDataset',
            dataset=_ListDataset(IMBALANCED_LABELS),
            neg_num=5,
            percent=1.0))
    assert isinstance(wrapper, CRDContrastDataset)
    assert len(wrapper) == 4
    assert [list(p) for p in wrapper.cls_positive] == [[0, 2, 3], [1]]
    assert [list(n) for n in wrapper.cls_negative] == [[1], [0, 2, 3]]
    for _ in range(5):  # the negatives are random: draw a few times
        _check_contrast_indices(wrapper, neg_num=5)


def test_random_mode_takes_a_positive_of_the_same_class():
    wrapper = CRDContrastDataset(
        dataset=_ListDataset(IMBALANCED_LABELS),
        neg_num=2,
        percent=1.0,
        sample_mode='random')
    for _ in range(5):
        for idx, label in enumerate(IMBALANCED_LABELS):
            contrast = wrapper.get_data_info(idx)['contrast_sample_idxs']
            assert IMBALANCED_LABELS[contrast[0]] == label
            assert all(IMBALANCED_LABELS[j] != label for j in contrast[1:])


def test_percent_keeps_a_share_of_each_class_negatives():
    labels = [0] * 6 + [1] * 2 + [2] * 2
    wrapper = CRDContrastDataset(
        dataset=_ListDataset(labels), neg_num=3, percent=0.5)
    assert [len(n) for n in wrapper.cls_negative] == [2, 4, 4]
    _check_contrast_indices(wrapper, neg_num=3)


def test_labels_beyond_num_classes_are_a_clear_error():
    with pytest.raises(ValueError, match='num_classes'):
        CRDContrastDataset(
            dataset=_ListDataset(IMBALANCED_LABELS),
            neg_num=2,
            percent=1.0,
            num_classes=1)


def test_cifar100_subset_with_unequal_classes(tmp_path):
    """150 images: classes 0-49 hold two images, classes 50-99 one."""
    root = write_cifar100(str(tmp_path), num_train=150, num_test=10)
    cifar = dict(type='LocalCIFAR100', data_root=root, check_md5=False)
    with pytest.raises(ValueError, match='inhomogeneous'):
        CRDDataset(dataset=cifar, neg_num=16, percent=1.0)
    wrapper = CRDContrastDataset(dataset=cifar, neg_num=16, percent=1.0)
    assert len(wrapper) == 150
    assert {len(p) for p in wrapper.cls_positive} == {1, 2}
    _check_contrast_indices(wrapper, neg_num=16)


def test_test_mode_dataset_gets_no_contrast_indices():
    wrapper = CRDContrastDataset(
        dataset=_ListDataset(IMBALANCED_LABELS, test_mode=True),
        neg_num=2,
        percent=1.0)
    assert 'contrast_sample_idxs' not in wrapper.get_data_info(0)
