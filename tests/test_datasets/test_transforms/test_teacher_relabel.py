# Copyright (c) cgankd_plugin contributors.
"""TeacherRelabel puts the bank's teacher labels in place of the targets."""
import numpy as np
import pytest
import torch

from cgankd_plugin.datasets.transforms.teacher_relabel import TeacherRelabel
from cgankd_plugin.registry import TRANSFORMS


@pytest.fixture
def relabel():
    return TRANSFORMS.build(dict(type='TeacherRelabel'))


def test_registered(relabel):
    assert isinstance(relabel, TeacherRelabel)


def test_hard_label(relabel):
    out = relabel(dict(is_fake=True, gt_label=3, teacher_label=np.int64(7)))
    assert out['gt_label'] == 7 and isinstance(out['gt_label'], int)
    assert 'gt_score' not in out


def test_soft_label(relabel):
    probs = np.array([0.1, 0.7, 0.2], np.float64)
    out = relabel(
        dict(is_fake=True, gt_label=0, teacher_label=1, teacher_probs=probs,
             soft_label_classes=3))
    assert out['gt_label'] == 1
    assert out['gt_score'].dtype == np.float32
    np.testing.assert_allclose(out['gt_score'], probs)


def test_real_samples_get_one_hot_scores_only_in_soft_banks(relabel):
    out = relabel(dict(is_fake=False, gt_label=2, soft_label_classes=4))
    assert out['gt_label'] == 2
    np.testing.assert_array_equal(out['gt_score'], [0, 0, 1, 0])
    assert out['gt_score'].dtype == np.float32
    # a hard bank: real samples untouched
    sample = dict(is_fake=False, gt_label=2, img=np.zeros((2, 2, 3)))
    out = relabel(dict(sample))
    assert set(out) == set(sample) and out['gt_label'] == 2


def test_regression_value(relabel):
    out = relabel(dict(is_fake=True, gt_value=30.0, teacher_value=27.5))
    assert out['gt_value'] == 27.5
    real = relabel(dict(is_fake=False, gt_value=30.0))
    assert real == dict(is_fake=False, gt_value=30.0)


def test_samples_without_the_flag_pass_unchanged(relabel):
    sample = dict(gt_label=4, teacher_label=1)
    assert relabel(dict(sample)) == sample


def test_fake_without_teacher_label_raises(relabel):
    with pytest.raises(KeyError, match='teacher_label'):
        relabel(dict(is_fake=True, gt_label=3))


def test_packed_soft_batch_trains_with_mmpretrain_ce(relabel):
    """Real one-hot and fake soft scores pack and feed LinearClsHead."""
    from mmpretrain.datasets.transforms import PackInputs
    from mmpretrain.models.losses import CrossEntropyLoss
    pack = PackInputs()
    img = np.zeros((4, 4, 3), np.uint8)
    fake = pack(relabel(
        dict(img=img, is_fake=True, gt_label=0, teacher_label=1,
             teacher_probs=np.array([0.2, 0.8], np.float32),
             soft_label_classes=2)))['data_samples']
    real = pack(relabel(
        dict(img=img, is_fake=False, gt_label=0,
             soft_label_classes=2)))['data_samples']
    target = torch.stack([real.gt_score, fake.gt_score])
    torch.testing.assert_close(target, torch.tensor([[1.0, 0.0],
                                                     [0.2, 0.8]]))
    logits = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    loss = CrossEntropyLoss()(logits, target)
    expected = -(target * logits.log_softmax(1)).sum(1).mean()
    torch.testing.assert_close(loss, expected)
