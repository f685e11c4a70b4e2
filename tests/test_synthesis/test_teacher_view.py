# Copyright (c) cgankd_plugin contributors.
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose

import cgankd_plugin  # noqa: F401
from cgankd_plugin.registry import TRANSFORMS
from cgankd_plugin.synthesis.teacher_view import (TeacherView,
                                                  check_view_sizes)

# a student's test pipeline, with what a view leaves out (loading,
# relabelling, packing)
TEST_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='mmrazor.GrayToRGB'),
    dict(type='mmpretrain.Resize', scale=(32, 32)),
    dict(type='mmrazor.TeacherRelabel'),
    dict(type='mmpretrain.PackInputs'),
]


def _images(n=4, size=28, seed=0):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(
        rng.integers(0, 256, (n, 1, size, size), dtype=np.uint8))


def test_view_leaves_out_loading_relabelling_and_packing_only():
    view = TeacherView(TEST_PIPELINE)
    assert view.names == ['GrayToRGB', 'Resize']
    assert view.describe() == 'GrayToRGB -> Resize'
    # an explicit view is applied as given, random transforms included
    flip = dict(type='mmpretrain.RandomFlip', prob=1.0,
                direction='horizontal')
    assert TeacherView([flip]).names == ['RandomFlip']


def test_view_equals_the_test_pipeline():
    """Each rendered image is what the test pipeline packs for it."""
    images = _images()
    view = TeacherView(TEST_PIPELINE)
    rendered = view(images)
    assert rendered.shape == (4, 3, 32, 32)
    assert rendered.dtype == torch.uint8
    test_pipeline = Compose([
        TRANSFORMS.build(t) for t in (
            dict(type='mmrazor.GrayToRGB'),
            dict(type='mmpretrain.Resize', scale=(32, 32)),
            dict(type='mmpretrain.PackInputs'))
    ])
    for image, out in zip(images.numpy(), rendered):
        packed = test_pipeline(dict(img=image[0]))['inputs']
        assert torch.equal(packed, out)


def test_view_from_built_transforms_and_identity():
    built = Compose([TRANSFORMS.build(t) for t in TEST_PIPELINE])
    assert TeacherView(built).names == ['GrayToRGB', 'Resize']
    identity = TeacherView([dict(type='mmpretrain.PackInputs')])
    images = _images()
    assert identity.is_identity and identity(images) is images


def test_settings_are_plain_and_follow_the_size():
    a = TeacherView(TEST_PIPELINE).settings()
    b = TeacherView(TEST_PIPELINE).settings()
    assert a == b and a[1]['type'] == 'Resize'
    other = [dict(t) for t in TEST_PIPELINE]
    other[1] = dict(type='mmpretrain.Resize', scale=(28, 28))
    assert TeacherView(other).settings() != a


def test_check_view_sizes_refuses_fake_and_real_of_other_sizes():
    no_resize = [t for t in TEST_PIPELINE
                 if t['type'] != 'mmpretrain.Resize']
    view = TeacherView(no_resize)
    real = dict(img=np.zeros((28, 28), np.uint8))
    assert check_view_sizes(view, (1, 28, 28), real) == (3, 28, 28)
    with pytest.raises(ValueError,
                       match=r'CGANHook\.cgan model\.img_size'):
        check_view_sizes(view, (1, 32, 32), real)
    # with a Resize both reach 32 px whatever the cGAN's size
    assert check_view_sizes(TeacherView(TEST_PIPELINE), (1, 24, 24),
                            real) == (3, 32, 32)


def test_check_view_sizes_refuses_a_view_off_the_training_size():
    train = Compose([TRANSFORMS.build(t) for t in (
        dict(type='mmrazor.GrayToRGB'),
        dict(type='mmpretrain.RandomResizedCrop', scale=24),
        dict(type='mmpretrain.PackInputs'))])
    real = dict(img=np.zeros((28, 28), np.uint8))
    view = TeacherView([dict(type='mmrazor.GrayToRGB')])
    with pytest.raises(ValueError, match='CGANHook.teacher_view'):
        check_view_sizes(view, (1, 28, 28), real, train_pipeline=train)
    resized = TeacherView([dict(type='mmrazor.GrayToRGB'),
                           dict(type='mmpretrain.Resize', scale=(24, 24))])
    assert check_view_sizes(resized, (1, 28, 28), real,
                            train_pipeline=train) == (3, 24, 24)
