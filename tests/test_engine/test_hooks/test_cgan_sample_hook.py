# Copyright (c) cgankd_plugin contributors.
"""CGANSampleHook: a labelled, enlarged grid of the cGAN's samples at its
interval, classes spread over the range."""
from types import SimpleNamespace

import numpy as np
import torch

from cgankd_plugin.engine.hooks.cgan_sample_hook import CGANSampleHook
from cgankd_plugin.synthesis.visualize import labelled_grid


class _Gan:
    """Samples whose pixels are a function of their label."""

    def __init__(self, num_classes=None):
        self.is_continuous = num_classes is None
        self.num_classes = num_classes
        self.labels = None

    def sample(self, labels, rng=None):
        self.labels = labels
        value = labels.float() / (self.num_classes or 1)
        return value.view(-1, 1, 1, 1).expand(-1, 3, 32, 32) * 2 - 1


class _Visualizer:

    def __init__(self):
        self.images = []

    def add_image(self, name, image, step=0):
        self.images.append((name, image, step))


def _runner(gan, iteration, classes=None):
    dataset = SimpleNamespace(
        metainfo={} if classes is None else dict(classes=classes))
    return SimpleNamespace(
        model=gan, iter=iteration, max_iters=10000,
        train_dataloader=SimpleNamespace(dataset=dataset),
        visualizer=_Visualizer())


def test_the_grid_names_spread_classes_and_is_wide():
    gan = _Gan(num_classes=100)
    names = [f'class_{c}' for c in range(100)]
    runner = _runner(gan, iteration=1999, classes=names)
    CGANSampleHook(interval=2000).after_train_iter(runner, 0)
    ((name, grid, step), ) = runner.visualizer.images
    assert (name, step) == ('cgan_samples', 2000)
    rows = np.linspace(0, 99, 10).astype(int)  # 0, 11, ..., 99
    np.testing.assert_array_equal(np.unique(gan.labels), rows)
    assert grid.shape[1] >= 800
    images = ((gan.sample(gan.labels) + 1) * 127.5).round().to(torch.uint8)
    np.testing.assert_array_equal(
        grid, labelled_grid(images.numpy(), gan.labels.numpy(), names))


def test_no_grid_between_intervals_and_values_for_a_ccgan():
    runner = _runner(_Gan(), iteration=5)
    CGANSampleHook(interval=2000).after_train_iter(runner, 0)
    assert runner.visualizer.images == []
    runner.iter = 9999  # the last iteration
    gan = runner.model
    CGANSampleHook(interval=2000).after_train_iter(runner, 0)
    ((_, grid, _), ) = runner.visualizer.images
    np.testing.assert_allclose(np.unique(gan.labels), np.linspace(0, 1, 10))
    assert grid.shape[1] >= 800
