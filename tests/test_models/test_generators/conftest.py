# Copyright (c) cgankd_plugin contributors.
"""Factories of tiny GANs for the generator tests (width 8, few steps)."""
from typing import Callable, Dict, List

import pytest
import torch

from cgankd_plugin.models.generators import (ClassConditionalGAN,
                                             ContinuousConditionalGAN)


def _make_optimizers(gan) -> Dict[str, torch.optim.Optimizer]:
    return dict(
        generator=torch.optim.Adam(
            gan.generator.parameters(), lr=2e-4, betas=(0.0, 0.999)),
        discriminator=torch.optim.Adam(
            gan.discriminator.parameters(), lr=2e-4, betas=(0.0, 0.999)))


@pytest.fixture(autouse=True)
def one_thread():
    """Run each test on one thread: on a shared 2-core machine two threads
    made these small convolutions several times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def make_optimizers() -> Callable[..., Dict[str, torch.optim.Optimizer]]:
    """Adam over G and D, as the training hook builds them."""
    return _make_optimizers


@pytest.fixture
def train_gan(make_optimizers) -> Callable[..., List[Dict[str, float]]]:
    """Run ``steps`` train_steps of a GAN on ``data`` with a seeded rng."""

    def train(gan, data, steps, seed=0, batch_size=4):
        images, labels = data
        optimizers = make_optimizers(gan)
        rng = torch.Generator().manual_seed(seed)
        return [
            gan.train_on_tensors(images, labels, optimizers, batch_size, rng)
            for _ in range(steps)
        ]

    return train


@pytest.fixture
def build_class_gan() -> Callable[..., ClassConditionalGAN]:
    """Build a 32 px, width-8 BigGAN for 5 classes (seeded)."""

    def build(seed: int = 0, **kwargs) -> ClassConditionalGAN:
        torch.manual_seed(seed)
        options = dict(
            num_classes=5,
            noise_dim=16,
            img_size=32,
            discriminator_steps=1,
            ema_config=dict(momentum=0.9, start_iter=1))
        options.update(kwargs)
        return ClassConditionalGAN(
            dict(type='BigGANGenerator', base_channels=8, shared_dim=16),
            dict(type='ProjectionDiscriminator', base_channels=8), **options)

    return build


@pytest.fixture
def build_ccgan() -> Callable[..., ContinuousConditionalGAN]:
    """Build a 32 px, width-8 CcGAN (seeded)."""

    def build(seed: int = 0, **kwargs) -> ContinuousConditionalGAN:
        torch.manual_seed(seed)
        options = dict(noise_dim=16, img_size=32)
        options.update(kwargs)
        return ContinuousConditionalGAN(
            dict(type='CcGANGenerator', base_channels=8, label_embed_dim=16),
            dict(
                type='CcGANDiscriminator', base_channels=8,
                label_embed_dim=16), **options)

    return build


@pytest.fixture
def class_data():
    """24 random 32 px uint8 images with labels cycling over 5 classes."""
    generator = torch.Generator().manual_seed(1)
    images = torch.randint(
        0, 256, (24, 3, 32, 32), dtype=torch.uint8, generator=generator)
    labels = torch.arange(24) % 5
    return images, labels


@pytest.fixture
def regression_data():
    """24 random 32 px uint8 images with labels on a 1/12 grid of [0, 1]."""
    generator = torch.Generator().manual_seed(2)
    images = torch.randint(
        0, 256, (24, 3, 32, 32), dtype=torch.uint8, generator=generator)
    labels = (torch.arange(24) % 13).double() / 12
    return images, labels
