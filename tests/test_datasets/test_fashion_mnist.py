# Copyright (c) cgankd_plugin contributors.
"""FashionMNISTSplit and RotatedFashionMNIST on small official IDX files."""
import struct

import numpy as np
import pytest

from cgankd_plugin.datasets import FashionMNISTSplit, RotatedFashionMNIST
from cgankd_plugin.datasets.fashion_mnist import (NUM_OFFICIAL_TRAIN,
                                                  rotate_image)


def _write_idx(path, array):
    """An uncompressed IDX file: magic (ubyte, ndim), big-endian dims."""
    with open(path, 'wb') as f:
        f.write(struct.pack('>BBBB', 0, 0, 0x08, array.ndim))
        f.write(struct.pack(f'>{array.ndim}I', *array.shape))
        f.write(array.astype(np.uint8).tobytes())


@pytest.fixture(scope='module')
def fashion_root(tmp_path_factory):
    """The official file layout; the training file has 60,000 images (all
    the same but for their first pixel, which holds the index mod 256) so
    the split arithmetic is the real one."""
    root = tmp_path_factory.mktemp('fashion_mnist')
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (28, 28), dtype=np.uint8)
    train = np.repeat(base[None], NUM_OFFICIAL_TRAIN, axis=0)
    train[:, 0, 0] = np.arange(NUM_OFFICIAL_TRAIN) % 256
    _write_idx(root / 'train-images-idx3-ubyte', train)
    _write_idx(root / 'train-labels-idx1-ubyte',
               np.arange(NUM_OFFICIAL_TRAIN) % 10)
    test = rng.integers(0, 256, (30, 28, 28), dtype=np.uint8)
    _write_idx(root / 't10k-images-idx3-ubyte', test)
    _write_idx(root / 't10k-labels-idx1-ubyte', np.arange(30) % 10)
    return str(root)


def test_splits_carve_validation_from_the_end_of_training(fashion_root):
    train = FashionMNISTSplit(fashion_root, split='train', val_size=1000)
    val = FashionMNISTSplit(fashion_root, split='val', val_size=1000)
    test = FashionMNISTSplit(fashion_root, split='test')
    assert (len(train), len(val), len(test)) == (59000, 1000, 30)
    # index 59000 is the first validation image (59000 % 256 == 120)
    assert val.get_data_info(0)['img'][0, 0] == 59000 % 256
    assert val.get_data_info(0)['gt_label'] == 59000 % 10
    assert train.get_data_info(58999)['img'][0, 0] == 58999 % 256
    assert val.metainfo['classes'][0] == 'T-shirt/top'
    # mmpretrain's `indices` still picks the first images
    subset = FashionMNISTSplit(fashion_root, split='train', indices=20)
    assert [subset.get_data_info(i)['gt_label'] for i in range(20)] == [
        i % 10 for i in range(20)
    ]


def test_a_sample_goes_through_mmpretrain_pipelines(fashion_root):
    dataset = FashionMNISTSplit(
        fashion_root,
        split='test',
        pipeline=[
            dict(type='mmrazor.GrayToRGB'),
            dict(type='mmpretrain.Resize', scale=(32, 32)),
            dict(type='mmpretrain.PackInputs'),
        ])
    sample = dataset[3]
    assert tuple(sample['inputs'].shape) == (3, 32, 32)
    assert int(sample['data_samples'].gt_label) == 3


@pytest.mark.parametrize('kwargs,match', [
    (dict(split='validation'), 'split'),
    (dict(val_size=NUM_OFFICIAL_TRAIN), 'val_size'),
])
def test_bad_arguments_are_named(fashion_root, kwargs, match):
    with pytest.raises(ValueError, match=match):
        FashionMNISTSplit(fashion_root, **kwargs)


def test_missing_files_name_the_path_and_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match='make data') as error:
        RotatedFashionMNIST(str(tmp_path))
    assert 'train-images-idx3-ubyte' in str(error.value)


def test_rotated_targets_are_seeded_uniform_angles(fashion_root):
    train = RotatedFashionMNIST(fashion_root, split='train', val_size=1000)
    again = RotatedFashionMNIST(fashion_root, split='train', val_size=1000)
    other_seed = RotatedFashionMNIST(
        fashion_root, split='train', val_size=1000, angle_seed=1)
    angles = train.get_gt_values()
    assert len(angles) == 59000
    assert np.array_equal(angles, again.get_gt_values())
    assert not np.array_equal(angles, other_seed.get_gt_values())
    assert angles.min() >= -45 and angles.max() <= 45
    # uniform: each quarter of the range holds about a quarter
    counts = np.histogram(angles, bins=4, range=(-45, 45))[0]
    assert np.all(np.abs(counts / len(angles) - 0.25) < 0.02)
    assert train.metainfo['normalization_range'] == (-45.0, 45.0)


def test_validation_cut_keeps_each_images_angle(fashion_root):
    train = RotatedFashionMNIST(fashion_root, split='train', val_size=1000)
    small_val = RotatedFashionMNIST(fashion_root, split='val', val_size=1000)
    big_val = RotatedFashionMNIST(fashion_root, split='val', val_size=2000)
    test = RotatedFashionMNIST(fashion_root, split='test')
    assert np.array_equal(small_val.get_gt_values(),
                          big_val.get_gt_values()[1000:])
    assert np.array_equal(train.get_gt_values()[58000:],
                          big_val.get_gt_values()[:1000])
    # the test images get their own draw, not the training images' first
    assert not np.allclose(test.get_gt_values(),
                           train.get_gt_values()[:30])


def test_the_image_is_rotated_by_its_target(fashion_root):
    dataset = RotatedFashionMNIST(fashion_root, split='test')
    raw = FashionMNISTSplit(fashion_root, split='test')
    for index in range(3):
        info = dataset.get_data_info(index)
        expected = rotate_image(raw.get_data_info(index)['img'],
                                info['gt_value'])
        assert np.array_equal(info['img'], expected)


def test_rotation_turns_counter_clockwise():
    # a horizontal bar right of the centre, turned by 45 degrees,
    # ends up in the upper-right quadrant (image rows grow downwards)
    image = np.zeros((28, 28), np.uint8)
    image[13:15, 16:26] = 255
    turned = rotate_image(image, 45.0)
    upper_right = turned[:14, 14:].sum()
    lower_right = turned[14:, 14:].sum()
    assert upper_right > 10 * lower_right


def test_label_range_keeps_only_angles_inside(fashion_root):
    dataset = RotatedFashionMNIST(
        fashion_root, split='test', label_range=(0, 45))
    values = dataset.get_gt_values()
    assert 0 < len(values) < 30
    assert values.min() >= 0
