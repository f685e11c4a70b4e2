# Copyright (c) cgankd_plugin contributors.
"""Training a conditional GAN on a real set read by index.

The path of the cGAN-KD hook's trainer (``GANTrainer``): each iteration
draws its own batches from the labels of the whole set (the CcGAN's
vicinal batches need every label), reads those images only
(:class:`~cgankd_plugin.structures.RealImages`: decoded from the dataset
when read, or a uint8 tensor) and steps torch optimisers.
:class:`~cgankd_plugin.models.generators.BaseConditionalGAN` mixes it in;
MMEngine's Runner uses its ``train_step`` instead.
"""
import math
from typing import Dict, List, NamedTuple, Optional, Union

import torch

from ...structures import RealImages, TensorImages


class DiscriminatorBatch(NamedTuple):
    """What one discriminator update trains on (all on the CPU).

    Attributes:
        real_indices: (B,) indices of the real images in the training set
            (None under a Runner: the real images are its batch).
        real_conditions: (B,) labels the discriminator scores the real
            images at.
        fake_labels: (B,) labels the generator generates the fakes at.
        fake_conditions: (B,) labels the discriminator scores the fakes at.
        real_weights: optional (B,) weights of the real loss terms.
        fake_weights: optional (B,) weights of the fake loss terms.
    """
    real_indices: Optional[torch.Tensor]
    real_conditions: torch.Tensor
    fake_labels: torch.Tensor
    fake_conditions: torch.Tensor
    real_weights: Optional[torch.Tensor] = None
    fake_weights: Optional[torch.Tensor] = None


class IndexedTrainingMixin:
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

    def _check_training_images(self, images: RealImages,
                               labels: torch.Tensor) -> None:
        self.check_compatible(
            img_size=images.img_size, img_channels=images.channels)
        if labels.dim() != 1 or labels.numel() != len(images):
            raise ValueError(f'expected {len(images)} labels shaped (N,), '
                             f'got shape {tuple(labels.shape)}')

    def train_on_tensors(self, images: Union[RealImages, torch.Tensor],
                         labels: torch.Tensor,
                         optimizers: Dict[str, torch.optim.Optimizer],
                         batch_size: int,
                         rng: torch.Generator) -> Dict[str, float]:
        """One GAN iteration on the real set: the discriminator updates,
        then the generator updates and the EMA.

        Only the images of the iteration's batches are read.

        Args:
            images (RealImages | torch.Tensor): the real training set, read
                by index, or all of it as a uint8 (N, C, H, W) tensor.
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
        if isinstance(images, torch.Tensor):
            images = TensorImages(images, labels)
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
            real_images = self.to_float_images(
                images.read(batch.real_indices).to(device))
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
