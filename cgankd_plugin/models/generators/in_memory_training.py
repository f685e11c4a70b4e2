# Copyright (c) cgankd_plugin contributors.
"""Training a conditional GAN on a whole in-memory training set.

The path of the cGAN-KD hook's trainer (``GANTrainer``): each iteration
draws its own batches from uint8 tensors of every image and label (the
CcGAN's vicinal batches need every label) and steps torch optimisers.
:class:`~cgankd_plugin.models.generators.BaseConditionalGAN` mixes it in;
MMEngine's Runner uses its ``train_step`` instead.
"""
import math
from typing import Dict, List, NamedTuple, Optional

import torch


class DiscriminatorBatch(NamedTuple):
    """What one discriminator update trains on (all on the CPU).

    Attributes:
        real_indices: (B,) indices of the real images in the training set.
        real_conditions: (B,) labels the discriminator scores the real
            images at.
        fake_labels: (B,) labels the generator generates the fakes at.
        fake_conditions: (B,) labels the discriminator scores the fakes at.
        real_weights: optional (B,) weights of the real loss terms.
        fake_weights: optional (B,) weights of the fake loss terms.
    """
    real_indices: torch.Tensor
    real_conditions: torch.Tensor
    fake_labels: torch.Tensor
    fake_conditions: torch.Tensor
    real_weights: Optional[torch.Tensor] = None
    fake_weights: Optional[torch.Tensor] = None


class InMemoryTrainingMixin:
    """``train_on_tensors`` for a :class:`BaseConditionalGAN`.

    Uses the GAN's ``_discriminator_loss``, ``_generator_loss``,
    ``_frozen_discriminator``, ``_draw_noise``, ``_update_ema``,
    ``_check_training_labels``, ``_draw_generator_labels`` and
    ``check_compatible``; subclasses say how to draw a discriminator batch.
    """

    def _draw_discriminator_batch(self, labels: torch.Tensor,
                                  batch_size: int,
                                  rng: torch.Generator) -> DiscriminatorBatch:
        """Draw what one discriminator update trains on.

        Args:
            labels (torch.Tensor): the (N,) training labels, on the CPU.
            batch_size (int): real (and fake) samples to draw.
            rng (torch.Generator): CPU generator for the draws.

        Returns:
            DiscriminatorBatch: The batch.
        """
        raise NotImplementedError

    def _check_training_images(self, images: torch.Tensor,
                               labels: torch.Tensor) -> None:
        if images.dtype != torch.uint8:
            raise TypeError('train_on_tensors expects uint8 images in '
                            f'[0, 255], got {images.dtype}')
        if images.dim() != 4 or images.size(2) != images.size(3):
            raise ValueError('train_on_tensors expects square images '
                             'shaped (N, C, H, W), got '
                             f'{tuple(images.shape)}')
        self.check_compatible(
            img_size=images.size(2), img_channels=images.size(1))
        if labels.dim() != 1 or labels.numel() != images.size(0):
            raise ValueError(f'expected {images.size(0)} labels shaped (N,)'
                             f', got shape {tuple(labels.shape)}')

    def train_on_tensors(self, images: torch.Tensor, labels: torch.Tensor,
                         optimizers: Dict[str, torch.optim.Optimizer],
                         batch_size: int,
                         rng: torch.Generator) -> Dict[str, float]:
        """One GAN iteration on a whole in-memory training set: the
        discriminator updates, then the generator updates and the EMA.

        Args:
            images (torch.Tensor): the whole real training set, (N, C, H, W)
                uint8.
            labels (torch.Tensor): its (N,) labels (class indices or
                normalised floats).
            optimizers (Dict[str, torch.optim.Optimizer]):
                ``dict(generator=..., discriminator=...)`` over
                ``self.generator.parameters()`` and
                ``self.discriminator.parameters()``.
            batch_size (int): images per batch, for D (per kind: real and
                fake) and for G.
            rng (torch.Generator): CPU generator for every random draw
                (batches, noise, augmentation), so that runs are
                reproducible.

        Returns:
            Dict[str, float]: ``loss_disc`` (mean over the D updates) and
            ``loss_gen`` (mean over the G updates).
        """
        self._check_training_images(images, labels)
        self._check_training_labels(labels)
        labels = labels.detach().cpu()
        generator_optim = optimizers['generator']
        discriminator_optim = optimizers['discriminator']
        device = self.device
        self.generator.train()
        self.discriminator.train()

        disc_losses: List[float] = []
        for _ in range(self.discriminator_steps):
            batch = self._draw_discriminator_batch(labels, batch_size, rng)
            noise = self._draw_noise(batch_size, rng).to(device)
            indices = batch.real_indices.to(images.device)
            real_images = self.to_float_images(images[indices].to(device))
            loss = self._discriminator_loss(
                real_images, batch.real_conditions.to(device),
                batch.fake_labels.to(device),
                batch.fake_conditions.to(device), noise, rng,
                batch.real_weights, batch.fake_weights)
            discriminator_optim.zero_grad(set_to_none=True)
            loss.backward()
            discriminator_optim.step()
            disc_losses.append(loss.item())

        gen_losses: List[float] = []
        with self._frozen_discriminator():
            for _ in range(self.generator_steps):
                gen_labels = self._draw_generator_labels(
                    labels, batch_size, rng).to(device)
                noise = self._draw_noise(batch_size, rng).to(device)
                loss = self._generator_loss(gen_labels, noise, rng)
                generator_optim.zero_grad(set_to_none=True)
                loss.backward()
                generator_optim.step()
                gen_losses.append(loss.item())
                self._update_ema()
        self.iteration.add_(1)
        return dict(
            loss_disc=math.fsum(disc_losses) / len(disc_losses),
            loss_gen=math.fsum(gen_losses) / len(gen_losses))
