# Copyright (c) cgankd_plugin contributors.
"""Tiny GANs, Runner batches and a MessageHub for the generator tests."""
import uuid
from typing import Callable, Dict, List

import numpy as np
import pytest
import torch
from mmengine.dataset import BaseDataset, DefaultSampler, pseudo_collate
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmpretrain.structures import DataSample

from cgankd_plugin.datasets import VicinalDataset
from cgankd_plugin.datasets.samplers import VicinalBatchSampler
from cgankd_plugin.models.generators import (ClassConditionalGAN,
                                             ContinuousConditionalGAN)


@pytest.fixture(autouse=True)
def one_thread():
    """Run each test on one thread: on a shared 2-core machine two threads
    made these small convolutions several times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def message_hub() -> MessageHub:
    """A fresh current MessageHub at iteration 0 (``train_step`` reads its
    ``iter`` as a Runner's loop sets it)."""
    hub = MessageHub.get_instance(f'test-generators-{uuid.uuid4().hex}')
    hub.update_info('iter', 0)
    return hub


def _optim_wrapper(gan) -> OptimWrapperDict:
    """Adam over G and D, as ``configs/cgan/`` build them."""
    return OptimWrapperDict(
        generator=OptimWrapper(
            torch.optim.Adam(
                gan.generator.parameters(), lr=2e-4, betas=(0.0, 0.999))),
        discriminator=OptimWrapper(
            torch.optim.Adam(
                gan.discriminator.parameters(), lr=2e-4,
                betas=(0.0, 0.999))))


def _class_batch(images: torch.Tensor, labels: torch.Tensor) -> dict:
    """A collated Runner batch of ``PackInputs`` samples (uint8 CHW)."""
    samples = [DataSample().set_gt_label(int(label)) for label in labels]
    return dict(inputs=list(images), data_samples=samples)


class _Values(BaseDataset):
    """Random uint8 images with ``gt_value`` on a 1/12 grid of [0, 12]."""

    METAINFO = dict(normalization_range=(0.0, 12.0))

    def __init__(self, img_size: int, img_channels: int, **kwargs) -> None:
        self.img_size, self.img_channels = img_size, img_channels
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        rng = np.random.default_rng(2)
        shape = (self.img_size, self.img_size, self.img_channels)
        return [
            dict(img=rng.integers(0, 256, shape, dtype=np.uint8),
                 gt_value=float(i % 13)) for i in range(24)
        ]


def _vicinal_batches(img_size: int = 32,
                     img_channels: int = 3,
                     batch_size: int = 4,
                     **sampler_args) -> Callable[[int], dict]:
    """Batch ``b`` of a CcGAN's Runner loader, by ``VicinalBatchSampler``.

    The set has 24 random images with labels ``(i % 13) / 12``.
    """
    dataset = VicinalDataset(
        _Values(img_size, img_channels,
                pipeline=[dict(type='mmpretrain.PackInputs')],
                serialize_data=False))
    sampler_args.setdefault('seed', 0)
    sampler = VicinalBatchSampler(
        DefaultSampler(dataset, shuffle=False), batch_size, **sampler_args)

    def batch(index: int) -> dict:
        return pseudo_collate([dataset[item] for item in sampler.draw(index)])

    batch.sampler = sampler
    return batch


def _run_steps(gan, batches: Callable[[int], dict], hub: MessageHub,
               steps: int, start: int = 0,
               optim_wrapper=None) -> List[Dict[str, torch.Tensor]]:
    """Runner iterations ``start .. start + steps - 1`` of ``gan``."""
    optim_wrapper = optim_wrapper or _optim_wrapper(gan)
    losses = []
    for step in range(start, start + steps):
        hub.update_info('iter', step)
        losses.append(gan.train_step(batches(step), optim_wrapper))
    return losses


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
            ema_config=dict(momentum=0.1, start_iter=1))
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
def class_batches(class_data) -> Callable[[int], dict]:
    """Batch ``b`` of 4 of ``class_data``, in order, as a Runner's."""
    images, labels = class_data

    def batch(index: int) -> dict:
        picks = (torch.arange(4) + 4 * index) % len(images)
        return _class_batch(images[picks], labels[picks])

    return batch


@pytest.fixture
def make_optim_wrapper() -> Callable[..., OptimWrapperDict]:
    """``OptimWrapperDict`` of Adam over G and D."""
    return _optim_wrapper


@pytest.fixture
def make_class_batch() -> Callable[..., dict]:
    """A collated Runner batch of given uint8 images and classes."""
    return _class_batch


@pytest.fixture
def make_vicinal_batches() -> Callable[..., Callable[[int], dict]]:
    """``VicinalBatchSampler``'s batches of a 24-image regression set."""
    return _vicinal_batches


@pytest.fixture
def run_steps(message_hub) -> Callable[..., List[Dict[str, torch.Tensor]]]:
    """Run Runner iterations of a GAN on ``batches`` (``train_step``)."""

    def run(gan, batches, steps, start=0, optim_wrapper=None):
        return _run_steps(gan, batches, message_hub, steps, start,
                          optim_wrapper)

    return run
