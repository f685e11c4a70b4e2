# Copyright (c) cgankd_plugin contributors.
"""Class-conditional GAN (BigGAN, hinge loss), cGAN-KD's CIFAR generator."""
from typing import Optional

import torch

from cgankd_plugin.registry import MODELS
from .base_conditional_gan import BaseConditionalGAN
from .discriminator_batch import DiscriminatorBatch
from .ema import DEFAULT_EMA_CONFIG
from .gan_data_preprocessor import class_labels


@MODELS.register_module()
class ClassConditionalGAN(BaseConditionalGAN):
    """A class-conditional GAN with its training step and EMA generator.

    Each discriminator update scores the Runner's batch of real images at
    their own classes and as many fakes generated at uniformly drawn
    classes; each generator update generates at uniformly drawn classes.
    Losses are hinge losses; DiffAugment is optional.

    Args:
        generator (dict): config of a registered generator (e.g.
            ``dict(type='BigGANGenerator', base_channels=64)``);
            ``num_classes``, ``noise_dim``, ``img_size`` and
            ``img_channels`` are filled in.
        discriminator (dict): config of a registered discriminator (e.g.
            ``dict(type='ProjectionDiscriminator')``); ``num_classes``,
            ``img_size`` and ``img_channels`` are filled in.
        num_classes (int): number of classes.
        noise_dim (int): width of the noise vector.
        img_size (int): image side (32, 64 or 128 for BigGAN).
        img_channels (int): image channels.
        generator_steps (int): generator updates per generator turn.
        discriminator_steps (int): Runner iterations (each one
            discriminator update) per generator turn (cGAN-KD's CIFAR-100
            BigGAN: 4).
        ema_config (dict, optional): The generator's EMA (see
            :class:`BaseConditionalGAN`): after each generator turn it
            becomes ``(1 - momentum) * ema + momentum * G`` (buffers too
            with ``update_buffers``) once ``start_iter`` turns are done,
            and a copy of G before; None keeps no EMA generator. Defaults to
            ``dict(type='ExponentialMovingAverage', momentum=0.001,
            interval=1, update_buffers=True, start_iter=1000)``.
        diff_augment (str, optional): DiffAugment policy, e.g.
            ``'color,translation,cutout'`` (cGAN-KD's), or None.
        data_preprocessor (dict, optional): How a Runner's batches are cast
            (default: ``ConditionalGANDataPreprocessor``).
        train_seed (int): Seed of the draws of a Runner iteration (with
            the iteration and the rank; see ``train_step``).
        flip_reals (bool): Flip real images at random (BigGAN's
            ``--augment``; see :class:`BaseConditionalGAN`).
        init_cfg (dict, optional): mmengine init config.
    """

    is_continuous = False

    def __init__(self,
                 generator: dict,
                 discriminator: dict,
                 num_classes: int,
                 noise_dim: int = 128,
                 img_size: int = 32,
                 img_channels: int = 3,
                 generator_steps: int = 1,
                 discriminator_steps: int = 2,
                 ema_config: Optional[dict] = DEFAULT_EMA_CONFIG,
                 diff_augment: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 train_seed: int = 0,
                 flip_reals: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        if num_classes < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        super().__init__(
            generator,
            discriminator,
            num_classes=num_classes,
            noise_dim=noise_dim,
            img_size=img_size,
            img_channels=img_channels,
            generator_steps=generator_steps,
            discriminator_steps=discriminator_steps,
            ema_config=ema_config,
            diff_augment=diff_augment,
            data_preprocessor=data_preprocessor,
            train_seed=train_seed,
            flip_reals=flip_reals,
            init_cfg=init_cfg)

    def _check_sample_labels(self, labels: torch.Tensor) -> torch.Tensor:
        if labels.dtype.is_floating_point or labels.dtype == torch.bool:
            raise TypeError('class labels must be an integer tensor, got '
                            f'{labels.dtype}')
        if labels.numel() and (int(labels.min()) < 0
                               or int(labels.max()) >= self.num_classes):
            raise ValueError(f'class labels must lie in [0, '
                             f'{self.num_classes}), got [{int(labels.min())}'
                             f', {int(labels.max())}]')
        return labels.long()

    def _draw_classes(self, count: int, rng: torch.Generator,
                      device: torch.device) -> torch.Tensor:
        return torch.randint(
            self.num_classes, (count, ), generator=rng, device=device)

    def _discriminator_batch(self, data: dict, count: int,
                             rng: torch.Generator) -> DiscriminatorBatch:
        labels = data['labels']
        if labels is None:
            raise ValueError('the cGAN trains on labelled samples: the '
                             'batch has no gt_label')
        # checked on the samples' own (host) labels, not read back from
        # the device
        self._check_sample_labels(class_labels(data['data_samples']))
        fake_labels = self._draw_classes(count, rng, labels.device)
        return DiscriminatorBatch(
            real_conditions=labels,
            fake_labels=fake_labels,
            fake_conditions=fake_labels)

    def _generator_labels(self, data: dict, count: int, rng: torch.Generator,
                          turn: int) -> torch.Tensor:
        return self._draw_classes(count, rng, data['inputs'].device)
