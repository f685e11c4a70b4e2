# Copyright (c) cgankd_plugin contributors.
"""Class-conditional GAN (BigGAN, hinge loss), cGAN-KD's CIFAR generator."""
from typing import Optional

import torch

from cgankd_plugin.registry import MODELS
from .base_conditional_gan import DEFAULT_EMA_CONFIG, BaseConditionalGAN
from .indexed_training import DiscriminatorBatch


@MODELS.register_module()
class ClassConditionalGAN(BaseConditionalGAN):
    """A class-conditional GAN with its training step and EMA generator.

    Each discriminator update scores a uniformly drawn batch of real
    images at their own classes and as many fakes generated at uniformly
    drawn classes; each generator update generates at uniformly drawn
    classes. Losses are hinge losses; DiffAugment is optional.

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
        generator_steps (int): generator updates per turn.
        discriminator_steps (int): discriminator updates per generator
            turn (see :class:`BaseConditionalGAN`)
            (cGAN-KD's CIFAR-100 BigGAN: 4).
        ema_config (dict, optional): ``dict(momentum, start_iter)``: after each
            generator update the EMA generator becomes ``momentum * ema + (1 -
            momentum) * G`` once ``start_iter`` iterations are done, and a copy
            of G before; None keeps no EMA generator.
        diff_augment (str, optional): DiffAugment policy, e.g.
            ``'color,translation,cutout'`` (cGAN-KD's), or None.
        data_preprocessor (dict, optional): How a Runner's batches are cast
            (default: ``ConditionalGANDataPreprocessor``).
        train_seed (int): Seed of the draws of a Runner iteration (with
            the iteration and the rank; see ``train_step``).
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
                 init_cfg: Optional[dict] = None) -> None:
        if num_classes < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        super().__init__(
            generator,
            discriminator,
            generator_fields=dict(
                num_classes=num_classes,
                noise_dim=noise_dim,
                img_size=img_size,
                img_channels=img_channels),
            discriminator_fields=dict(
                num_classes=num_classes,
                img_size=img_size,
                img_channels=img_channels),
            noise_dim=noise_dim,
            img_size=img_size,
            img_channels=img_channels,
            generator_steps=generator_steps,
            discriminator_steps=discriminator_steps,
            ema_config=ema_config,
            diff_augment=diff_augment,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.num_classes = num_classes
        self.train_seed = int(train_seed)

    def _check_class_labels(self, labels: torch.Tensor) -> torch.Tensor:
        if labels.dtype.is_floating_point or labels.dtype == torch.bool:
            raise TypeError('class labels must be an integer tensor, got '
                            f'{labels.dtype}')
        if labels.numel() and (int(labels.min()) < 0
                               or int(labels.max()) >= self.num_classes):
            raise ValueError(f'class labels must lie in [0, '
                             f'{self.num_classes}), got [{int(labels.min())}'
                             f', {int(labels.max())}]')
        return labels.long()

    def _check_training_labels(self, labels: torch.Tensor) -> None:
        self._check_class_labels(labels)

    def _check_sample_labels(self, labels: torch.Tensor) -> torch.Tensor:
        return self._check_class_labels(labels)

    def _draw_discriminator_batch(self, labels: torch.Tensor, batch_size: int,
                                  rng: torch.Generator) -> DiscriminatorBatch:
        real_indices = torch.randint(
            labels.numel(), (batch_size, ), generator=rng)
        fake_labels = self._draw_generator_labels(labels, batch_size, rng)
        return DiscriminatorBatch(
            real_indices=real_indices,
            real_conditions=labels[real_indices].long(),
            fake_labels=fake_labels,
            fake_conditions=fake_labels)

    def _draw_generator_labels(self, labels: torch.Tensor, batch_size: int,
                               rng: torch.Generator) -> torch.Tensor:
        return torch.randint(self.num_classes, (batch_size, ), generator=rng)

    def _runner_discriminator_batch(self, data: dict, count: int,
                                    rng: torch.Generator
                                    ) -> DiscriminatorBatch:
        labels = data['labels']
        if labels is None:
            raise ValueError('the cGAN trains on labelled samples: the '
                             'batch has no gt_label')
        self._check_training_labels(labels.cpu())
        fake_labels = self._draw_generator_labels(labels, count, rng)
        return DiscriminatorBatch(
            real_indices=None,
            real_conditions=labels,
            fake_labels=fake_labels,
            fake_conditions=fake_labels)

    def _runner_generator_labels(self, data: dict, count: int,
                                 rng: torch.Generator,
                                 turn: int) -> torch.Tensor:
        return self._draw_generator_labels(data['labels'], count, rng)
