# Copyright (c) cgankd_plugin contributors.
"""CRDContrastDataset: mmrazor's CRD sampling, fast and on imbalanced data."""
import numpy as np
import pytest
import torch
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
    assert [list(wrapper.negatives_of(c)) for c in (0, 1)] == [[1], [0, 2, 3]]
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
    assert [len(wrapper.negatives_of(c)) for c in range(3)] == [2, 4, 4]
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


def _shuffled_labels(sizes, seed=0):
    """Labels with ``sizes[c]`` samples of class c, in a fixed random order
    (so that no class is a contiguous block of indices)."""
    labels = np.repeat(np.arange(len(sizes)), sizes)
    return np.random.default_rng(seed).permutation(labels).tolist()


def _draws(wrapper, idx: int, times: int) -> np.ndarray:
    return np.stack([
        wrapper.get_data_info(idx)['contrast_sample_idxs']
        for _ in range(times)
    ])


def test_negatives_are_distinct_of_other_classes_positive_first():
    labels = _shuffled_labels([30, 10, 20, 40])
    np.random.seed(0)
    wrapper = CRDContrastDataset(
        dataset=_ListDataset(labels), neg_num=25, percent=1.0)
    labels = np.asarray(labels)
    for _ in range(3):
        for idx in range(len(labels)):
            contrast = wrapper.get_data_info(idx)['contrast_sample_idxs']
            assert contrast.dtype == np.int32  # half a worker's bytes
            assert contrast.shape == (26, ) and contrast[0] == idx
            negatives = contrast[1:]
            assert len(np.unique(negatives)) == 25
            assert negatives.min() >= 0 and negatives.max() < len(labels)
            assert not np.any(labels[negatives] == labels[idx])


def test_random_mode_positive_is_any_sample_of_the_class():
    labels = _shuffled_labels([10, 5, 5])
    np.random.seed(0)
    wrapper = CRDContrastDataset(
        dataset=_ListDataset(labels),
        neg_num=4,
        percent=1.0,
        sample_mode='random')
    idx = labels.index(0)
    draws = _draws(wrapper, idx, 300)
    class0 = {i for i, label in enumerate(labels) if label == 0}
    assert set(draws[:, 0].tolist()) == class0
    assert not np.any(np.asarray(labels)[draws[:, 1:]] == 0)


def test_draws_are_reproducible_given_the_numpy_seed():

    def draws(seed):
        np.random.seed(seed)
        wrapper = CRDContrastDataset(
            dataset=_ListDataset(_shuffled_labels([20, 20, 20])),
            neg_num=8,
            percent=1.0,
            sample_mode='random')
        return np.stack([
            wrapper.get_data_info(idx)['contrast_sample_idxs']
            for idx in range(60)
        ])

    np.testing.assert_array_equal(draws(1), draws(1))
    assert not np.array_equal(draws(1), draws(2))


def _chi_square(counts: np.ndarray, expected: float) -> float:
    return float(((counts - expected)**2 / expected).sum())


def test_negatives_are_uniform_over_the_other_classes_samples():
    """Counts of each negative and of each pair of negatives over 4,000
    draws against their expectations (chi-square, fixed seed): the
    negatives of a sample of class 0 are a uniform 10-subset of the 50
    samples of classes 1 and 2, which differ in size."""
    labels = np.asarray(_shuffled_labels([10, 20, 30]))
    np.random.seed(0)
    wrapper = CRDContrastDataset(
        dataset=_ListDataset(labels.tolist()), neg_num=10, percent=1.0)
    times, k = 4000, 10
    draws = _draws(wrapper, int(np.flatnonzero(labels == 0)[0]), times)
    others = np.flatnonzero(labels != 0)
    hits = np.zeros((times, len(labels)), dtype=np.int64)
    np.put_along_axis(hits, draws[:, 1:], 1, axis=1)
    assert hits[:, labels == 0].sum() == 0
    hits = hits[:, others]
    m = len(others)
    # each sample: expected times * k / m; dof m - 1 = 49
    singles = _chi_square(hits.sum(0), times * k / m)
    assert singles < 2 * (m - 1), singles
    # each pair: expected times * k (k - 1) / (m (m - 1)); dof 1224
    pairs = (hits.T @ hits)[np.triu_indices(m, 1)]
    expected = times * k * (k - 1) / (m * (m - 1))
    assert _chi_square(pairs, expected) < 1.5 * len(pairs)


def test_percent_keeps_mmrazors_lists_and_draws_only_from_them():
    labels = [i % 4 for i in range(40)]
    np.random.seed(5)
    theirs = CRDDataset(
        dataset=_ListDataset(labels), neg_num=6, percent=0.4)
    np.random.seed(5)
    ours = CRDContrastDataset(
        dataset=_ListDataset(labels), neg_num=6, percent=0.4)
    for c in range(4):
        np.testing.assert_array_equal(ours.negatives_of(c),
                                      theirs.cls_negative[c])
    draws = _draws(ours, 0, 200)
    kept = ours.negatives_of(0)
    assert len(kept) == 12
    assert np.isin(draws[:, 1:], kept).all()
    assert set(draws[:, 1:].ravel().tolist()) == set(kept.tolist())
    assert all(len(set(row)) == 6 for row in draws[:, 1:].tolist())


def test_percent_on_imbalanced_classes():
    labels = _shuffled_labels([12, 4, 8])
    np.random.seed(0)
    wrapper = CRDContrastDataset(
        dataset=_ListDataset(labels), neg_num=5, percent=0.5)
    labels = np.asarray(labels)
    for c, size in enumerate([12, 4, 8]):
        kept = wrapper.negatives_of(c)
        assert len(kept) == (24 - size) // 2
        assert len(np.unique(kept)) == len(kept)
        assert not np.any(labels[kept] == c)
        idx = int(np.flatnonzero(labels == c)[0])
        draws = _draws(wrapper, idx, 20)[:, 1:]
        assert np.isin(draws, kept).all()
        assert all(len(set(row)) == 5 for row in draws.tolist())


def test_fewer_negatives_than_neg_num_are_drawn_with_replacement():
    wrapper = CRDContrastDataset(
        dataset=_ListDataset(IMBALANCED_LABELS), neg_num=5, percent=1.0)
    # class 0 has one negative (sample 1), as in mmrazor's replace=True
    np.testing.assert_array_equal(
        wrapper.get_data_info(0)['contrast_sample_idxs'], [0, 1, 1, 1, 1, 1])


def test_a_class_without_negatives_is_a_clear_error():
    with pytest.raises(ValueError, match=r'no negatives for classes \[0\]'):
        CRDContrastDataset(
            dataset=_ListDataset([0, 0, 0]), neg_num=2, percent=1.0)


def test_loader_workers_draw_different_negatives():
    """Workers do not reuse a generator made before they were forked."""
    np.random.seed(0)
    wrapper = CRDContrastDataset(
        dataset=_ListDataset(_shuffled_labels([100, 100])),
        neg_num=50,
        percent=1.0)
    wrapper.get_data_info(0)  # the main process's generator exists
    loader = torch.utils.data.DataLoader(
        wrapper,
        batch_size=None,
        sampler=[0, 0],  # one sample for each worker
        num_workers=2,
        collate_fn=lambda info: info['contrast_sample_idxs'])
    torch.manual_seed(0)  # torch seeds np.random in each worker from it
    first, second = list(loader)
    assert first[0] == second[0] == 0
    assert set(first[1:].tolist()) != set(second[1:].tolist())
    torch.manual_seed(0)
    again = list(loader)
    np.testing.assert_array_equal(np.stack(again), np.stack([first, second]))
