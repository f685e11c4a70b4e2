# Copyright (c) cgankd_plugin contributors.
import numpy as np
import pytest
from mmengine.dataset import Compose

from cgankd_plugin.datasets.transforms import GrayToRGB
from cgankd_plugin.registry import TRANSFORMS


def gray(shape, seed=0):
    return np.random.default_rng(seed).integers(
        0, 256, shape, dtype=np.uint8)


@pytest.mark.parametrize('shape', [(28, 28), (28, 28, 1)])
def test_gray_becomes_three_equal_channels(shape):
    img = gray(shape)
    out = GrayToRGB()(dict(img=img))['img']
    assert out.shape == (28, 28, 3)
    assert out.dtype == np.uint8
    for channel in range(3):
        np.testing.assert_array_equal(out[..., channel],
                                      img.reshape(28, 28))


def test_output_is_a_copy():
    # later in-place transforms must not write into the data set's array
    img = gray((8, 8))
    out = GrayToRGB()(dict(img=img))['img']
    out[...] = 0
    assert img.any()


def test_three_channels_left_alone():
    img = gray((8, 8, 3))
    assert GrayToRGB()(dict(img=img))['img'] is img


@pytest.mark.parametrize('shape', [(8, ), (8, 8, 2), (8, 8, 4), (1, 8, 8, 1)])
def test_bad_shape_is_refused(shape):
    with pytest.raises(ValueError, match='GrayToRGB'):
        GrayToRGB()(dict(img=gray(shape)))


def test_registered_and_usable_in_an_mmpretrain_pipeline():
    # the name a config uses from a data set of mmpretrain's scope
    assert TRANSFORMS.get('GrayToRGB') is GrayToRGB
    pipeline = Compose([
        dict(type='mmrazor.GrayToRGB'),
        dict(type='mmpretrain.Resize', scale=(32, 32)),
        dict(type='mmpretrain.PackInputs'),
    ])
    packed = pipeline(dict(img=gray((28, 28)), gt_label=3))
    assert tuple(packed['inputs'].shape) == (3, 32, 32)
