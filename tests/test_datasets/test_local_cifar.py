# Copyright (c) cgankd_plugin contributors.
"""LocalCIFAR100 reads official-layout files; the md5 check stays default."""
import os
import pickle

import numpy as np
import pytest
from cifar_files import write_cifar100

from cgankd_plugin.datasets.local_cifar import LocalCIFAR100
from cgankd_plugin.registry import DATASETS


@pytest.fixture(scope='module')
def cifar_root(tmp_path_factory) -> str:
    """30 train and 20 test images, so the two splits differ in length."""
    return write_cifar100(
        str(tmp_path_factory.mktemp('local_cifar')),
        num_train=30,
        num_test=20,
        seed=3)


def _file(root: str, name: str) -> dict:
    with open(os.path.join(root, 'cifar-100-python', name), 'rb') as f:
        return pickle.load(f, encoding='latin1')


def _as_hwc(data: np.ndarray) -> np.ndarray:
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def test_train_split_loads_the_train_file(cifar_root):
    dataset = DATASETS.build(
        dict(type='LocalCIFAR100', data_root=cifar_root, check_md5=False))
    assert isinstance(dataset, LocalCIFAR100)
    entry = _file(cifar_root, 'train')
    assert len(dataset) == 30
    np.testing.assert_array_equal(dataset.get_gt_labels(),
                                  entry['fine_labels'])
    images = _as_hwc(entry['data'])
    for idx in (0, 29):
        img = dataset.get_data_info(idx)['img']
        assert img.dtype == np.uint8 and img.shape == (32, 32, 3)
        np.testing.assert_array_equal(img, images[idx])
    assert len(dataset.metainfo['classes']) == 100


def test_test_split_in_test_mode_loads_the_test_file(cifar_root):
    dataset = LocalCIFAR100(
        data_root=cifar_root, split='test', test_mode=True, check_md5=False)
    entry = _file(cifar_root, 'test')
    assert len(dataset) == 20
    assert dataset.test_mode
    np.testing.assert_array_equal(dataset.get_gt_labels(),
                                  entry['fine_labels'])
    np.testing.assert_array_equal(
        dataset.get_data_info(19)['img'],
        _as_hwc(entry['data'])[19])


def test_md5_check_is_on_by_default_and_rejects_user_made_files(cifar_root):
    with pytest.raises(RuntimeError, match='check_md5=False') as err:
        LocalCIFAR100(data_root=cifar_root)
    assert 'download' not in str(err.value)
    with pytest.raises(RuntimeError, match='CIFAR100'):
        LocalCIFAR100(data_root=cifar_root, split='test', check_md5=True)


def test_missing_files_say_where_the_official_files_go(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        LocalCIFAR100(data_root=str(tmp_path / 'cifar100'), check_md5=False)
    message = str(err.value)
    assert 'train, test not found' in message
    assert 'cifar-100-python.tar.gz' in message
    assert str(tmp_path / 'cifar100' / 'cifar-100-python') in message
    assert 'download=True' not in message


def test_switching_md5_off_leaves_the_class_checksums_alone(cifar_root):
    LocalCIFAR100(data_root=cifar_root, check_md5=False)
    assert all(md5 for _, md5 in LocalCIFAR100.train_list)
    assert all(md5 for _, md5 in LocalCIFAR100.test_list)
    with pytest.raises(RuntimeError):
        LocalCIFAR100(data_root=cifar_root)


def test_download_is_refused_with_a_clear_message(tmp_path):
    with pytest.raises(ValueError, match='never downloads') as err:
        LocalCIFAR100(data_root=str(tmp_path), download=True, check_md5=False)
    assert 'cifar-100-python' in str(err.value)
    assert os.listdir(tmp_path) == []
