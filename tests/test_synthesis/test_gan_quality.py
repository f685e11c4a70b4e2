# Copyright (c) cgankd_plugin contributors.
import numpy as np
import pytest
import torch

from cgankd_plugin.registry import MODELS
from cgankd_plugin.structures import TensorImages
from cgankd_plugin.synthesis.gan_quality import (frechet_distance,
                                                 teacher_gan_quality)
from cgankd_plugin.synthesis.teacher_adapter import TeacherAdapter


def test_frechet_distance_known_values():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 3))
    b = rng.normal(size=(4000, 3))
    assert frechet_distance(a, b) < 0.02
    # same covariance, mean shifted by 2 along one axis: exactly 4
    assert frechet_distance(a, a + [2.0, 0, 0]) == pytest.approx(4.0, 1e-6)
    # x -> 2x: |mu|^2 + tr(C) + 4 tr(C) - 4 tr(C) = |mu|^2 + tr(C)
    expected = a.mean(0).dot(a.mean(0)) + np.trace(np.cov(a, rowvar=False))
    assert frechet_distance(a, 2 * a) == pytest.approx(expected, 1e-6)


def test_teacher_gan_quality_on_a_tiny_gan():
    torch.manual_seed(0)
    gan = MODELS.build(
        dict(
            type='ClassConditionalGAN',
            num_classes=3,
            img_size=32,
            noise_dim=8,
            generator=dict(type='BigGANGenerator', base_channels=4),
            discriminator=dict(
                type='ProjectionDiscriminator', base_channels=4)))
    teacher = MODELS.build(
        dict(
            _scope_='mmpretrain',
            type='ImageClassifier',
            backbone=dict(type='mmrazor.ResNetCIFAR', arch='resnet8'),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=3, in_channels=64)))
    real = torch.randint(0, 256, (24, 3, 32, 32), dtype=torch.uint8)
    labels = torch.arange(24) % 3
    out = teacher_gan_quality(gan, TeacherAdapter(teacher),
                              TensorImages(real, labels),
                              num_samples=16, batch_size=8)
    assert out['teacher_fd'] >= 0 and np.isfinite(out['teacher_fd'])
    assert 0.0 <= out['teacher_accuracy'] <= 1.0
    again = teacher_gan_quality(gan, TeacherAdapter(teacher),
                              TensorImages(real, labels),
                                num_samples=16, batch_size=8)
    assert again == out  # seeded: the same draw gives the same figure


def test_frechet_distance_of_singular_covariances_is_finite():
    """More dimensions than samples (rank-deficient covariances), where
    ``scipy.linalg.sqrtm`` warns and can turn complex: still a finite,
    non-negative figure, and 0 for a set against itself."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(10, 64))
    b = rng.normal(size=(10, 64)) + 0.5
    assert np.isfinite(frechet_distance(a, b))
    assert frechet_distance(a, b) > 0
    assert abs(frechet_distance(a, a)) < 1e-4  # of traces of ~64
    with pytest.raises(ValueError, match='not finite'):
        frechet_distance(np.full((4, 2), np.nan), a[:4, :2])


def test_precision_and_recall_tell_realism_from_coverage():
    from cgankd_plugin.synthesis.gan_quality import precision_recall
    rng = np.random.default_rng(0)
    real = rng.normal(size=(400, 4))
    # the same distribution: both high
    same = precision_recall(real, rng.normal(size=(400, 4)))
    assert same[0] > 0.8 and same[1] > 0.8
    # a collapsed generator (a few modes): realistic, covers little
    modes = real[:5].repeat(20, axis=0) + 0.01 * rng.normal(size=(100, 4))
    precision, recall = precision_recall(real, modes)
    assert precision > 0.9 and recall < 0.1
    # far off the data: neither
    assert precision_recall(real, real + 10.0) == (0.0, 0.0)
    with pytest.raises(ValueError, match='more than k=3'):
        precision_recall(real, real[:3])
