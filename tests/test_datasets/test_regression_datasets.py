# Copyright (c) cgankd_plugin contributors.
import os.path as osp
import pickle

import h5py
import mmcv
import numpy as np
import pytest
import torch

from cgankd_plugin.datasets import (RegressionAnnotationDataset,
                                    RegressionH5Dataset, SteeringAngle,
                                    UTKFace)
from cgankd_plugin.registry import DATASETS

PACK = dict(type='mmrazor.PackRegressionInputs')


def make_images(num, height=4, width=5, seed=0):
    """``num`` distinct random uint8 images, official N x 3 x H x W."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (num, 3, height, width), dtype=np.uint8)


def write_h5(path, **arrays):
    with h5py.File(path, 'w') as h5_file:
        for key, array in arrays.items():
            h5_file.create_dataset(key, data=array)
    return str(path)


@pytest.fixture
def official_utkface(tmp_path):
    """cGAN-KD's UTKFace layout; ages 0 and 61 are outside 1..60."""
    arrays = dict(
        images_train=make_images(5),
        labels_train=np.array([0., 1., 30., 60., 61.]),
        images_test=make_images(2, seed=1),
        labels_test=np.array([25., 40.]))
    write_h5(tmp_path / 'UTKFace_64x64_prop_0.8.h5', **arrays)
    return tmp_path, arrays


@pytest.mark.parametrize('in_memory', [True, False])
def test_utkface_official_layout(official_utkface, in_memory):
    data_root, arrays = official_utkface
    dataset = UTKFace(data_root=str(data_root), in_memory=in_memory)
    assert len(dataset) == 3
    np.testing.assert_array_equal(dataset.get_gt_values(), [1., 30., 60.])
    assert dataset.get_gt_values().dtype == np.float64
    assert dataset.metainfo['label_range'] == (1., 60.)
    assert dataset.metainfo['normalization_range'] == (0., 60.)

    sample = dataset[1]
    assert sample['gt_value'] == 30.
    assert isinstance(sample['gt_value'], float)
    assert sample['sample_idx'] == 1
    assert sample['img_shape'] == sample['ori_shape'] == (4, 5)
    assert sample['img'].dtype == np.uint8
    assert sample['img'].flags.c_contiguous
    np.testing.assert_array_equal(
        sample['img'], arrays['images_train'][2].transpose(1, 2, 0))

    # transforms may write into img without touching the dataset
    sample['img'][...] = 0
    assert dataset[1]['img'].any()

    test_set = UTKFace(data_root=str(data_root), split='test')
    np.testing.assert_array_equal(test_set.get_gt_values(), [25., 40.])
    np.testing.assert_array_equal(
        test_set[0]['img'], arrays['images_test'][0].transpose(1, 2, 0))


def test_pipeline_packs_gt_value(official_utkface):
    data_root, arrays = official_utkface
    dataset = DATASETS.build(
        dict(
            type='UTKFace',
            data_root=str(data_root),
            split='test',
            pipeline=[PACK]))
    packed = dataset[1]
    assert packed['inputs'].shape == (3, 4, 5)
    torch.testing.assert_close(packed['inputs'],
                               torch.from_numpy(arrays['images_test'][1]))
    gt_value = packed['data_samples'].gt_value
    assert gt_value.shape == (1, ) and gt_value.dtype == torch.float32
    assert gt_value.item() == 40.
    assert packed['data_samples'].sample_idx == 1


def test_lazy_dataset_survives_pickling(official_utkface):
    data_root, arrays = official_utkface
    dataset = UTKFace(data_root=str(data_root), in_memory=False)
    dataset[0]  # opens the h5 file
    copy = pickle.loads(pickle.dumps(dataset))
    np.testing.assert_array_equal(
        copy[2]['img'], arrays['images_train'][3].transpose(1, 2, 0))


def test_steering_angle_defaults(tmp_path):
    angles = np.array([-88.13, -10.5, 0., 97.92], dtype=np.float32)
    write_h5(
        tmp_path / 'SteeringAngle_64x64_prop_0.8.h5',
        images_train=make_images(4),
        labels_train=angles,
        images_test=make_images(1),
        labels_test=np.array([3.25]))
    dataset = SteeringAngle(data_root=str(tmp_path))
    # the official range keeps every official label
    np.testing.assert_allclose(dataset.get_gt_values(), angles)
    assert dataset.metainfo['normalization_range'] == (-88.13, 97.92)
    narrow = SteeringAngle(data_root=str(tmp_path), label_range=(-80, 80))
    np.testing.assert_allclose(narrow.get_gt_values(), [-10.5, 0.])
    assert narrow.metainfo['label_range'] == (-80., 80.)
    unfiltered = SteeringAngle(data_root=str(tmp_path), label_range=None)
    assert unfiltered.metainfo['normalization_range'] == (-88.13, 97.92)
    assert len(unfiltered) == 4


def test_ccgan_layout_with_index_split(tmp_path):
    images = make_images(5)
    path = write_h5(
        tmp_path / 'RC-49_64x64.h5',
        images=images,
        labels=np.array([1., 2., 3., 4., 5.]),
        indx_train=np.array([0, 3]))
    train = RegressionH5Dataset(ann_file=path, split='train')
    test = RegressionH5Dataset(ann_file=path, split='test')
    np.testing.assert_array_equal(train.get_gt_values(), [1., 4.])
    np.testing.assert_array_equal(test.get_gt_values(), [2., 3., 5.])
    np.testing.assert_array_equal(test[1]['img'],
                                  images[2].transpose(1, 2, 0))
    lazy_test = RegressionH5Dataset(
        ann_file=path, split='test', in_memory=False)
    np.testing.assert_array_equal(lazy_test[1]['img'],
                                  images[2].transpose(1, 2, 0))


def test_ccgan_layout_without_split(tmp_path):
    path = write_h5(
        tmp_path / 'UTKFace_64x64.h5',
        images=make_images(3),
        labels=np.array([1., 2., 3.]))
    dataset = RegressionH5Dataset(ann_file=path, label_range=(2, 3))
    np.testing.assert_array_equal(dataset.get_gt_values(), [2., 3.])
    assert dataset.metainfo['label_range'] == (2., 3.)
    with pytest.raises(KeyError, match="no key 'images_test'.*'labels'"):
        RegressionH5Dataset(ann_file=path, split='test')


def test_channels_last(tmp_path):
    images_hwc = make_images(2).transpose(0, 2, 3, 1)
    path = write_h5(
        tmp_path / 'hwc.h5',
        images_train=images_hwc,
        labels_train=np.array([7., 8.]))
    dataset = RegressionH5Dataset(ann_file=path)
    np.testing.assert_array_equal(dataset[1]['img'], images_hwc[1])
    assert dataset[1]['img_shape'] == (4, 5)


def test_h5_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'nowhere[/\\]missing\.h5'):
        UTKFace(data_root=str(tmp_path / 'nowhere'), ann_file='missing.h5')

    path = write_h5(
        tmp_path / 'partial.h5',
        images_train=make_images(2),
        labels_test=np.array([1.]))
    with pytest.raises(KeyError) as error:
        RegressionH5Dataset(ann_file=path)
    assert "'labels_train'" in str(error.value)
    assert "['images_train', 'labels_test']" in str(error.value)

    mismatched = write_h5(
        tmp_path / 'mismatched.h5',
        images_train=make_images(2),
        labels_train=np.array([1.]))
    with pytest.raises(ValueError, match='2 images .* but 1 labels'):
        RegressionH5Dataset(ann_file=mismatched)
    with pytest.raises(ValueError, match='split'):
        RegressionH5Dataset(ann_file=mismatched, split='val')


@pytest.fixture
def image_folder(tmp_path):
    rng = np.random.default_rng(0)
    images = {}
    for name in ('a.png', 'sub dir/b.png', 'c.png'):
        image = rng.integers(0, 256, (6, 7, 3), dtype=np.uint8)
        mmcv.imwrite(image, str(tmp_path / 'images' / name))
        images[name] = image
    (tmp_path / 'train.txt').write_text(
        'a.png 23\n\nsub dir/b.png -4.5\nc.png 99\n')
    return tmp_path, images


def test_annotation_dataset(image_folder):
    data_root, images = image_folder
    dataset = DATASETS.build(
        dict(
            type='RegressionAnnotationDataset',
            data_root=str(data_root),
            ann_file='train.txt',
            data_prefix='images',
            label_range=(-10, 50),
            pipeline=[dict(type='mmpretrain.LoadImageFromFile'), PACK]))
    np.testing.assert_array_equal(dataset.get_gt_values(), [23., -4.5])
    assert dataset.metainfo['label_range'] == (-10., 50.)
    info = dataset.get_data_info(1)
    assert info['img_path'] == osp.join(str(data_root), 'images',
                                        'sub dir/b.png')
    assert info['gt_value'] == -4.5
    packed = dataset[1]
    torch.testing.assert_close(
        packed['inputs'],
        torch.from_numpy(images['sub dir/b.png']).permute(2, 0, 1))
    assert packed['data_samples'].gt_value.item() == -4.5
    assert packed['data_samples'].img_path == info['img_path']


@pytest.mark.parametrize('bad_line', ['d.png', 'd.png twelve', 'd.png nan'])
def test_annotation_dataset_malformed_line(image_folder, bad_line):
    data_root, _ = image_folder
    (data_root / 'bad.txt').write_text(f'a.png 1\n{bad_line}\n')
    with pytest.raises(ValueError, match=r'bad\.txt, line 2'):
        RegressionAnnotationDataset(
            data_root=str(data_root), ann_file='bad.txt')


def test_annotation_dataset_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='absent.txt'):
        RegressionAnnotationDataset(
            data_root=str(tmp_path), ann_file='absent.txt')
