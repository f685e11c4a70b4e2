# Copyright (c) cgankd_plugin contributors.
"""SyntheticMixDataset: real samples, then the bank's, with a fixed length."""
import pickle

import numpy as np
import pytest
import torch
from mmpretrain.datasets import BaseDataset

from cgankd_plugin.datasets.crd_contrast_dataset import CRDContrastDataset
from cgankd_plugin.datasets.synthetic_mix_dataset import SyntheticMixDataset
from cgankd_plugin.registry import DATASETS
from cgankd_plugin.synthesis import BankNotFoundError, BankWriter
from cgankd_plugin.synthesis.layout import condition_of_positions

NUM_CLASSES = 10
NUM_REAL = 20
NUM_FAKE = 25


class _RealSet(BaseDataset):
    """``NUM_REAL`` 8x8 images, labels cycling over 10 classes."""

    def __init__(self, **kwargs) -> None:
        super().__init__(
            ann_file='',
            metainfo=dict(classes=[f'c{i}' for i in range(NUM_CLASSES)]),
            **kwargs)

    def load_data_list(self):
        return [
            dict(img=np.full((8, 8, 3), i, np.uint8), gt_label=i % NUM_CLASSES)
            for i in range(NUM_REAL)
        ]


def write_bank(path, num=NUM_FAKE, soft=False, regression=False, seed=0):
    """A bank in the layout ClassificationBankBuilder makes (class blocks)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (num, 3, 8, 8), dtype=np.uint8)
    if regression:
        cond = np.linspace(1, 60, num).astype(np.float32)
        teacher = cond + 0.5
    else:
        cond = condition_of_positions(num, NUM_CLASSES)
        teacher = (cond + 1) % NUM_CLASSES  # differs from cond everywhere
    probs = None
    if soft:
        probs = rng.random((num, NUM_CLASSES)).astype(np.float32)
        probs[np.arange(num), teacher] += NUM_CLASSES
        probs /= probs.sum(1, keepdims=True)
    writer = BankWriter(
        str(path), 'key', num, (3, 8, 8),
        label_dtype='float32' if regression else 'int64',
        num_soft_classes=NUM_CLASSES if soft else None)
    writer.append_chunk(images, cond, teacher, probs)
    writer.finalize()
    return images, cond, teacher, probs


def test_length_and_labels_before_any_bank(tmp_path):
    mix = SyntheticMixDataset(_RealSet(), NUM_FAKE,
                              bank_dir=str(tmp_path / 'nothing_here'))
    assert len(mix) == NUM_REAL + NUM_FAKE
    assert mix.num_real == NUM_REAL and mix.num_classes == NUM_CLASSES
    labels = mix.get_gt_labels()
    np.testing.assert_array_equal(labels[:NUM_REAL],
                                  np.arange(NUM_REAL) % NUM_CLASSES)
    np.testing.assert_array_equal(
        labels[NUM_REAL:], condition_of_positions(NUM_FAKE, NUM_CLASSES))
    assert mix.get_cat_ids(NUM_REAL + 3) == [1]  # quotas 3, 3, 3, 3, 3, 2..
    assert not (tmp_path / 'nothing_here').exists()


def test_reading_before_the_bank_exists_is_a_clear_error(tmp_path):
    mix = SyntheticMixDataset(_RealSet(), NUM_FAKE)
    with pytest.raises(BankNotFoundError,
                       match=r'bank_dir is not set.*CGANHook'):
        mix[NUM_REAL]
    mix = SyntheticMixDataset(_RealSet(), NUM_FAKE,
                              bank_dir=str(tmp_path / 'bank'))
    with pytest.raises(BankNotFoundError, match='no synthetic bank') as err:
        mix.get_data_info(NUM_REAL + 1)
    assert str(tmp_path / 'bank') in str(err.value)
    assert 'CGANHook' in str(err.value)


def test_real_then_fake_samples(tmp_path):
    images, cond, teacher, _ = write_bank(tmp_path / 'bank')
    real = _RealSet()
    mix = SyntheticMixDataset(_RealSet(), NUM_FAKE,
                              bank_dir=str(tmp_path / 'bank'))
    for i in range(NUM_REAL):
        info = mix.get_data_info(i)
        expected = real.get_data_info(i)
        assert info['is_fake'] is False
        assert info['sample_idx'] == i
        assert info['gt_label'] == expected['gt_label']
        np.testing.assert_array_equal(info['img'], expected['img'])
        assert 'teacher_label' not in info
        assert 'soft_label_classes' not in info
    for j in range(NUM_FAKE):
        info = mix.get_data_info(NUM_REAL + j)
        assert info['is_fake'] is True
        assert info['sample_idx'] == NUM_REAL + j
        assert info['gt_label'] == cond[j]
        assert info['teacher_label'] == teacher[j]
        assert 'teacher_probs' not in info
        assert info['img'].shape == (8, 8, 3)
        assert info['img_shape'] == (8, 8)
        np.testing.assert_array_equal(info['img'],
                                      images[j].transpose(1, 2, 0))
    # negative indices and the end of the range
    assert mix.get_data_info(-1)['sample_idx'] == NUM_REAL + NUM_FAKE - 1
    with pytest.raises(IndexError):
        mix.get_data_info(NUM_REAL + NUM_FAKE)


def test_soft_bank_samples(tmp_path):
    _, _, teacher, probs = write_bank(tmp_path / 'bank', soft=True)
    mix = SyntheticMixDataset(_RealSet(), NUM_FAKE,
                              bank_dir=str(tmp_path / 'bank'))
    fake = mix.get_data_info(NUM_REAL + 4)
    assert fake['teacher_label'] == teacher[4]
    assert fake['teacher_probs'].dtype == np.float32
    np.testing.assert_allclose(fake['teacher_probs'], probs[4])
    # real samples learn the width of a soft target
    assert mix.get_data_info(0)['soft_label_classes'] == NUM_CLASSES


def test_regression_bank_samples(tmp_path):
    _, cond, teacher, _ = write_bank(tmp_path / 'bank', regression=True)
    mix = SyntheticMixDataset(_RealSet(), NUM_FAKE, num_classes=0,
                              bank_dir=str(tmp_path / 'bank'))
    fake = mix.get_data_info(NUM_REAL + 2)
    assert fake['gt_value'] == pytest.approx(cond[2])
    assert fake['teacher_value'] == pytest.approx(teacher[2])
    assert 'gt_label' not in fake
    with pytest.raises(TypeError, match='regression'):
        mix.get_gt_labels()


def test_pipeline_with_teacher_relabel(tmp_path):
    write_bank(tmp_path / 'bank')
    pipeline = [dict(type='mmrazor.TeacherRelabel'),
                dict(type='mmpretrain.PackInputs')]
    mix = SyntheticMixDataset(
        _RealSet(pipeline=pipeline), NUM_FAKE,
        bank_dir=str(tmp_path / 'bank'))
    real = mix[3]
    assert real['inputs'].shape == (3, 8, 8)
    assert real['data_samples'].gt_label.tolist() == [3]
    fake = mix[NUM_REAL]  # generated for class 0, teacher says 1
    assert fake['data_samples'].gt_label.tolist() == [1]


def test_wrapped_by_crd(tmp_path):
    write_bank(tmp_path / 'bank')
    # as configs wrap it (mmrazor's CRDDataset takes a config or a
    # BaseDataset instance; SyntheticMixDataset is a wrapper, not one)
    crd = CRDContrastDataset(
        dataset=dict(
            type='SyntheticMixDataset',
            dataset=_RealSet(),
            num_fake=NUM_FAKE,
            bank_dir=str(tmp_path / 'bank')),
        neg_num=8,
        percent=1.0)
    assert isinstance(crd.dataset, SyntheticMixDataset)
    assert len(crd) == NUM_REAL + NUM_FAKE
    labels = crd.dataset.get_gt_labels()
    for idx in (0, NUM_REAL - 1, NUM_REAL, NUM_REAL + NUM_FAKE - 1):
        info = crd[idx]
        assert info['sample_idx'] == idx
        contrast = np.asarray(info['contrast_sample_idxs'])
        assert len(contrast) == 9 and contrast[0] == idx
        assert contrast.max() < len(crd)
        assert not np.any(labels[contrast[1:]] == labels[idx])


def test_bank_of_the_wrong_size(tmp_path):
    write_bank(tmp_path / 'bank', num=NUM_FAKE - 1)
    mix = SyntheticMixDataset(_RealSet(), NUM_FAKE,
                              bank_dir=str(tmp_path / 'bank'))
    with pytest.raises(ValueError, match=f'holds {NUM_FAKE - 1} samples.*'
                       f'num_fake is {NUM_FAKE}'):
        mix.get_data_info(NUM_REAL)


def test_pickling_leaves_the_memmap_behind(tmp_path):
    images, *_ = write_bank(tmp_path / 'bank')
    mix = SyntheticMixDataset(_RealSet(), NUM_FAKE,
                              bank_dir=str(tmp_path / 'bank'))
    mix.get_data_info(NUM_REAL)
    assert mix._bank is not None
    state = mix.__getstate__()
    assert state['_bank'] is None
    data = pickle.dumps(mix)
    unopened = SyntheticMixDataset(_RealSet(), NUM_FAKE,
                                   bank_dir=str(tmp_path / 'bank'))
    # the opened bank adds nothing: no memmap, no images travel
    assert len(data) == len(pickle.dumps(unopened))
    clone = pickle.loads(data)
    assert clone._bank is None
    np.testing.assert_array_equal(
        clone.get_data_info(NUM_REAL + 1)['img'],
        images[1].transpose(1, 2, 0))


def test_no_fake_samples_needs_no_bank():
    mix = SyntheticMixDataset(_RealSet(), 0)
    assert len(mix) == NUM_REAL
    assert mix.get_data_info(5)['is_fake'] is False


def test_built_from_configs(tiny_cifar100, tmp_path):
    mix = DATASETS.build(
        dict(
            type='SyntheticMixDataset',
            num_fake=7,
            lazy_init=True,
            dataset=dict(
                type='LocalCIFAR100',
                data_root=tiny_cifar100,
                split='train',
                check_md5=False,
                pipeline=[])))
    assert isinstance(mix, SyntheticMixDataset)
    assert len(mix) == 107 and mix.num_classes == 100
    assert mix.get_gt_labels()[100:].tolist() == list(range(7))
    with pytest.raises(ValueError, match='num_fake'):
        SyntheticMixDataset(_RealSet(), -1)
    with pytest.raises(TypeError, match='dataset'):
        SyntheticMixDataset(torch.zeros(3), 1)


@pytest.mark.parametrize('bank_kind,num_classes,message', [
    ('regression', None, 'holds regression values but the real dataset '
     'is a classification set of 10 classes'),
    ('classes', 0, 'holds class labels but the real dataset is a '
     'regression set'),
])
def test_a_bank_of_another_task_is_refused(tmp_path, bank_kind, num_classes,
                                           message):
    write_bank(tmp_path / 'bank', regression=bank_kind == 'regression')
    mix = SyntheticMixDataset(_RealSet(), NUM_FAKE, num_classes=num_classes,
                              bank_dir=str(tmp_path / 'bank'))
    with pytest.raises(ValueError, match=message):
        mix.get_data_info(NUM_REAL)


def test_a_soft_bank_over_other_classes_is_refused(tmp_path):
    write_bank(tmp_path / 'bank', soft=True)
    mix = SyntheticMixDataset(_RealSet(), NUM_FAKE, num_classes=7,
                              bank_dir=str(tmp_path / 'bank'))
    with pytest.raises(ValueError, match='over 10 classes.*has 7'):
        mix.get_data_info(NUM_REAL)
