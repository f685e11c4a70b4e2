# Copyright (c) cgankd_plugin contributors.
import numpy as np
import pytest
import torch
from mmpretrain.datasets import BaseDataset

from cgankd_plugin.registry import DATASETS, MODELS


@DATASETS.register_module(force=True)
class _TinyLabelledImages(BaseDataset):
    """Image ``i`` is filled with the value ``i``; labels ``i % 3`` or
    a continuous ``i``."""

    METAINFO = dict(classes=('a', 'b', 'c'), normalization_range=(0, 30))

    def __init__(self, continuous=False, **kwargs):
        self.continuous = continuous
        super().__init__(
            ann_file='', data_root='', serialize_data=False, **kwargs)

    def load_data_list(self):
        out = []
        for i in range(30):
            info = dict(img=np.full((4, 4), i, np.uint8))
            if self.continuous:
                info['gt_value'] = float(i)
            else:
                info['gt_label'] = i % 3
            out.append(info)
        return out


def _pool(**kwargs):
    cfg = dict(
        type='RealImagePool',
        dataset=dict(type='_TinyLabelledImages'),
        img_size=4,
        img_channels=1,
        num_classes=3)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _values(images: torch.Tensor) -> np.ndarray:
    """The index each drawn image was filled with."""
    return np.rint((images[:, 0, 0, 0].numpy() + 1) * 127.5).astype(int)


def test_class_draws_come_from_that_class_and_skip_the_students():
    pool = _pool(exclude_first=6)
    assert not pool.trainable
    labels = torch.tensor([0, 1, 2] * 50)
    images = pool.sample(labels, rng=torch.Generator().manual_seed(0))
    assert images.shape == (150, 1, 4, 4)
    assert images.min() >= -1 and images.max() <= 1
    values = _values(images)
    assert (values % 3 == labels.numpy()).all()
    assert values.min() >= 6  # the student's first 6 images never come
    # every image of a class can come (uniform over the class)
    assert set(values[labels.numpy() == 0]) == set(range(6, 30, 3))


def test_draws_follow_the_rng():
    pool = _pool()
    labels = torch.tensor([0, 1, 2] * 10)
    a = pool.sample(labels, rng=torch.Generator().manual_seed(1))
    b = pool.sample(labels, rng=torch.Generator().manual_seed(1))
    c = pool.sample(labels, rng=torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_continuous_draws_are_the_nearest_labels():
    pool = _pool(
        dataset=dict(type='_TinyLabelledImages', continuous=True),
        num_classes=None,
        neighbours=4)
    assert pool.is_continuous
    # normalised label 0.5 = value 15: among the 4 nearest, 13..16
    images = pool.sample(torch.full((200, ), 0.5),
                         rng=torch.Generator().manual_seed(0))
    assert set(_values(images)) <= set(range(13, 18))
    assert len(set(_values(images))) == 4
    # at the edge the window stays inside the pool
    edge = _values(pool.sample(torch.zeros(50)))
    assert set(edge) <= {0, 1, 2, 3}


def test_bad_settings_name_the_field():
    with pytest.raises(ValueError, match='img_channels'):
        _pool(img_channels=3)
    with pytest.raises(ValueError, match='exclude_first'):
        _pool(exclude_first=30)
