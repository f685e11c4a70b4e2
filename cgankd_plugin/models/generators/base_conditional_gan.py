# Copyright (c) cgankd_plugin contributors.
"""What the class- and continuous-conditional GANs share.

Two ways to train them. An MMEngine ``Runner`` calls :meth:`train_step`
with a batch of its dataloader and an ``OptimWrapperDict``
(``generator``, ``discriminator``), as MMEngine's GAN pattern and mmagic
do: one discriminator update per call, the generator every
``discriminator_steps`` calls (configs in ``configs/cgan/``; a CcGAN's
batches are drawn by ``VicinalBatchSampler``, as its vicinal batches need
every label). The cGAN-KD hook's trainer calls :meth:`train_on_tensors`
(``indexed_training.py``) on the real set read by index instead, which
draws its own batches. Both share the losses and the EMA;
:meth:`sample`, :meth:`check_compatible` and the plain-tensor
``state_dict`` serve the bank.
"""
import contextlib
import copy
from typing import Dict, Iterator, Optional, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.dist import get_dist_info
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapperDict

from cgankd_plugin.registry import MODELS
from .ddp_networks import bare, strip_wrapper_prefixes
from .diff_augment import check_policy, diff_augment
from .ema import update_ema
from .gan_data_preprocessor import ConditionalGANDataPreprocessor
from .gan_losses import hinge_discriminator_loss, hinge_generator_loss
from .indexed_training import DiscriminatorBatch, IndexedTrainingMixin

DEFAULT_EMA_CONFIG = dict(momentum=0.999, start_iter=1000)


def fill_config(config: dict, fields: dict, role: str) -> dict:
    """Copy a network config and fill in the fields the GAN dictates.

    Args:
        config (dict): the network's config dict.
        fields (dict): name -> value the network must be built with.
        role (str): ``'generator'`` or ``'discriminator'``, for the message.

    Returns:
        dict: The filled copy.

    Raises:
        ValueError: when the config sets one of ``fields`` differently.
    """
    if not isinstance(config, dict):
        raise TypeError(f'the {role} must be given as a config dict, got '
                        f'{type(config).__name__}')
    filled = dict(config)
    for name, value in fields.items():
        if name in filled and filled[name] != value:
            raise ValueError(f'the {role} config sets {name}='
                             f'{filled[name]!r} but the GAN has '
                             f'{name}={value!r}')
        filled[name] = value
    return filled


class BaseConditionalGAN(IndexedTrainingMixin, BaseModel):
    """Shared machinery of a conditional GAN trained with the hinge loss.

    Subclasses say how to draw labels (:meth:`_draw_discriminator_batch`,
    :meth:`_draw_generator_labels`) and how to check them.

    Args:
        generator (dict): config of the generator, completed by
            ``generator_fields``.
        discriminator (dict): config of the discriminator, completed by
            ``discriminator_fields``.
        generator_fields (dict): values the generator config must carry.
        discriminator_fields (dict): values the discriminator config must
            carry.
        noise_dim (int): width of the noise vector.
        img_size (int): image side.
        img_channels (int): image channels.
        generator_steps (int): generator updates per generator turn.
        discriminator_steps (int): discriminator updates per
            :meth:`train_on_tensors` call; under a Runner, the iterations
            (each one discriminator update) per generator update.
        ema_config (dict, optional): ``dict(momentum, start_iter)`` of the EMA
            generator, or None for none.
        diff_augment (str, optional): DiffAugment policy, e.g.
            ``'color,translation,cutout'``, or None.
        data_preprocessor (dict | nn.Module, optional): How a Runner's
            batches are cast; None: :class:`ConditionalGANDataPreprocessor`.
        init_cfg (dict, optional): mmengine init config.
    """

    is_continuous: bool = False
    # Images generated per forward pass in :meth:`sample`.
    sample_batch_size: int = 500

    def __init__(self,
                 generator: dict,
                 discriminator: dict,
                 generator_fields: dict,
                 discriminator_fields: dict,
                 noise_dim: int,
                 img_size: int,
                 img_channels: int,
                 generator_steps: int,
                 discriminator_steps: int,
                 ema_config: Optional[dict],
                 diff_augment: Optional[str],
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = ConditionalGANDataPreprocessor()
        elif isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if generator_steps < 1 or discriminator_steps < 1:
            raise ValueError('generator_steps and discriminator_steps must '
                             f'be >= 1, got {generator_steps} and '
                             f'{discriminator_steps}')
        check_policy(diff_augment)
        self.noise_dim = noise_dim
        self.img_size = img_size
        self.img_channels = img_channels
        self.generator_steps = generator_steps
        self.discriminator_steps = discriminator_steps
        self.diff_augment = diff_augment
        # seed of a Runner iteration's draws (subclasses take it as an arg)
        self.train_seed = 0
        self.generator = MODELS.build(
            fill_config(generator, generator_fields, 'generator'))
        self.discriminator = MODELS.build(
            fill_config(discriminator, discriminator_fields, 'discriminator'))
        if ema_config is None:
            self.generator_ema: Optional[nn.Module] = None
        else:
            unknown = set(ema_config) - set(DEFAULT_EMA_CONFIG)
            if unknown:
                raise ValueError(f'unknown ema_config keys {sorted(unknown)}'
                                 f'; expected {sorted(DEFAULT_EMA_CONFIG)}')
            ema = dict(DEFAULT_EMA_CONFIG, **ema_config)
            self.ema_momentum = float(ema['momentum'])
            self.ema_start_iter = int(ema['start_iter'])
            self.generator_ema = copy.deepcopy(self.generator)
            self.generator_ema.requires_grad_(False)
        self.register_buffer('iteration', torch.zeros((), dtype=torch.long))
        # one set of key names, wrapped for DDP or not (MMEngine saves
        # model.state_dict() of the unwrapped GAN, whose networks
        # MMSeparateDistributedDataParallel wraps one by one)
        self.register_state_dict_post_hook(strip_wrapper_prefixes)

    # -- hooks for the subclasses --------------------------------------------

    def _check_training_labels(self, labels: torch.Tensor) -> None:
        """Validate the training labels (and cache what they imply)."""
        raise NotImplementedError

    def _check_sample_labels(self, labels: torch.Tensor) -> torch.Tensor:
        """Validate labels to sample at; return them in the G's dtype."""
        raise NotImplementedError

    def _draw_generator_labels(self, labels: torch.Tensor, batch_size: int,
                               rng: torch.Generator) -> torch.Tensor:
        """Draw the labels of one generator update's fakes.

        Args:
            labels (torch.Tensor): the (N,) training labels, on the CPU.
            batch_size (int): labels to draw.
            rng (torch.Generator): CPU generator for the draws.

        Returns:
            torch.Tensor: (batch_size,) labels on the CPU.
        """
        raise NotImplementedError

    # -- helpers -------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        """The device the generator's weights are on."""
        return next(self.generator.parameters()).device

    @staticmethod
    def to_float_images(images: torch.Tensor) -> torch.Tensor:
        """Map uint8 images in [0, 255] to float images in [-1, 1]."""
        return images.float() / 127.5 - 1.0

    def _draw_noise(self, count: int,
                    rng: Optional[torch.Generator]) -> torch.Tensor:
        return torch.randn(count, self.noise_dim, generator=rng)

    def _augment(self, images: torch.Tensor,
                 rng: torch.Generator) -> torch.Tensor:
        return diff_augment(images, self.diff_augment, rng)

    def _update_ema(self) -> None:
        if self.generator_ema is None:
            return
        started = int(self.iteration) >= self.ema_start_iter
        momentum = self.ema_momentum if started else 0.0
        update_ema(self.generator_ema, bare(self.generator), momentum)


    # -- the losses both ways of training share ------------------------------

    def _discriminator_loss(self, real_images: torch.Tensor,
                            real_conditions: torch.Tensor,
                            fake_labels: torch.Tensor,
                            fake_conditions: torch.Tensor,
                            noise: torch.Tensor,
                            rng: Optional[torch.Generator],
                            real_weights: Optional[torch.Tensor] = None,
                            fake_weights: Optional[torch.Tensor] = None
                            ) -> torch.Tensor:
        """The hinge loss of one discriminator update (on the device)."""
        device = real_images.device
        with torch.no_grad():
            fake_images = bare(self.generator)(noise, fake_labels)
        inputs = self._augment(torch.cat([real_images, fake_images]), rng)
        conditions = torch.cat([real_conditions, fake_conditions])
        logits = self.discriminator(inputs, conditions)
        real_logits, fake_logits = logits.split(
            [real_images.size(0), fake_images.size(0)])
        real_term, fake_term = hinge_discriminator_loss(
            real_logits, fake_logits, _to_device(real_weights, device),
            _to_device(fake_weights, device))
        return real_term + fake_term

    def _generator_loss(self, labels: torch.Tensor, noise: torch.Tensor,
                        rng: Optional[torch.Generator]) -> torch.Tensor:
        """The hinge loss of one generator update (on the device)."""
        fake_images = self.generator(noise, labels)
        logits = bare(self.discriminator)(self._augment(fake_images, rng),
                                           labels)
        return hinge_generator_loss(logits)

    @contextlib.contextmanager
    def _frozen_discriminator(self) -> Iterator[None]:
        """No gradients into the discriminator (a generator update)."""
        trainable = [p.requires_grad for p in self.discriminator.parameters()]
        self.discriminator.requires_grad_(False)
        try:
            yield
        finally:
            for param, flag in zip(self.discriminator.parameters(), trainable):
                param.requires_grad_(flag)

    # -- training under an MMEngine Runner ------------------------------------

    def train_step(self, data: dict,
                   optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        """One Runner iteration: a discriminator update; every
        ``discriminator_steps`` iterations also the generator updates and
        the EMA (mmagic's convention).

        The real batch is the dataloader's; a class-conditional GAN
        generates its fakes at classes drawn uniformly (as
        :meth:`train_on_tensors` does), a CcGAN scores them at the vicinal
        draws that came with the batch (``VicinalBatchSampler``). Every
        draw of the iteration (labels, noise, DiffAugment) comes from a
        generator seeded by ``train_seed``, the iteration and the rank, so
        a run resumed from a checkpoint draws what an uninterrupted one
        does (MMEngine restores no random state; its loop replays the
        dataloader to the iteration).

        Args:
            data (dict): A collated batch (``inputs``, ``data_samples``).
            optim_wrapper (OptimWrapperDict): ``generator`` and
                ``discriminator``.

        Returns:
            Dict[str, torch.Tensor]: ``loss_disc``, and ``loss_gen`` at the
            iterations that update the generator.
        """
        data = self.data_preprocessor(data, True)
        real_images = data['inputs']
        self.check_compatible(
            img_size=real_images.size(2), img_channels=real_images.size(1))
        device, count = real_images.device, real_images.size(0)
        self.generator.train()
        self.discriminator.train()
        step = MessageHub.get_current_instance().get_info('iter', 0)
        rng = self._iteration_generator(step)
        batch = self._runner_discriminator_batch(data, count, rng)
        noise = self._draw_noise(count, rng).to(device)
        disc_optim = optim_wrapper['discriminator']
        with disc_optim.optim_context(self.discriminator):
            loss = self._discriminator_loss(
                real_images, batch.real_conditions.to(device),
                batch.fake_labels.to(device),
                batch.fake_conditions.to(device), noise, rng,
                batch.real_weights, batch.fake_weights)
        disc_optim.update_params(loss)
        log_vars = dict(loss_disc=loss.detach())
        if (step + 1) % self.discriminator_steps:
            return log_vars
        gen_optim = optim_wrapper['generator']
        with self._frozen_discriminator():
            for turn in range(self.generator_steps):
                gen_labels = self._runner_generator_labels(
                    data, count, rng, turn).to(device)
                noise = self._draw_noise(count, rng).to(device)
                with gen_optim.optim_context(self.generator):
                    loss = self._generator_loss(gen_labels, noise, rng)
                gen_optim.update_params(loss)
                self._update_ema()
        self.iteration.add_(1)
        log_vars['loss_gen'] = loss.detach()
        return log_vars

    def _runner_discriminator_batch(self, data: dict, count: int,
                                    rng: torch.Generator
                                    ) -> DiscriminatorBatch:
        """What a Runner iteration's discriminator update scores.

        Args:
            data (dict): The preprocessed batch (``labels``, ``vicinal``).
            count (int): Its size.
            rng (torch.Generator): The iteration's generator.

        Returns:
            DiscriminatorBatch: Its ``real_indices`` are None (the real
            images are the batch's).
        """
        raise NotImplementedError

    def _runner_generator_labels(self, data: dict, count: int,
                                 rng: torch.Generator,
                                 turn: int) -> torch.Tensor:
        """The labels of generator update ``turn`` of a Runner iteration."""
        raise NotImplementedError

    def _iteration_generator(self, step: int) -> torch.Generator:
        """The random generator of Runner iteration ``step`` on this rank."""
        rank, _ = get_dist_info()
        seed = np.random.SeedSequence([self.train_seed, step, rank])
        return torch.Generator().manual_seed(int(seed.generate_state(1)[0]))

    def forward(self,
                inputs: Optional[torch.Tensor] = None,
                data_samples: Optional[list] = None,
                mode: str = 'tensor',
                labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Generate images at ``labels`` (a Runner's test / predict call).

        Args:
            inputs (torch.Tensor, optional): Unused (the real batch).
            data_samples (list, optional): Unused.
            mode (str): ``'tensor'`` or ``'predict'``: both generate.
            labels (torch.Tensor, optional): The labels to generate at.

        Returns:
            torch.Tensor: Images in ``[-1, 1]`` (EMA generator).
        """
        if mode not in ('tensor', 'predict') or labels is None:
            raise ValueError(f'{type(self).__name__}.forward generates at '
                             'given labels (mode tensor or predict); '
                             'training goes through train_step')
        return self.sample(labels)

    @torch.no_grad()
    def sample(self,
               labels: torch.Tensor,
               noise: Optional[torch.Tensor] = None,
               rng: Optional[torch.Generator] = None,
               use_ema: bool = True) -> torch.Tensor:
        """Generate one image per label, in eval mode, without gradients.

        Args:
            labels (torch.Tensor): (M,) labels (class indices or normalised
                floats).
            noise (torch.Tensor, optional): optional (M, noise_dim) latent
                vectors; drawn on the CPU from ``rng`` when None.
            rng (torch.Generator, optional): CPU generator for the noise; None
                uses torch's global one.
            use_ema (bool): use the EMA generator when there is one.

        Returns:
            torch.Tensor: (M, img_channels, img_size, img_size) float images
            in [-1, 1], on the generator's device.
        """
        network = bare(self.generator)
        if use_ema and self.generator_ema is not None:
            network = self.generator_ema
        labels = self._check_sample_labels(labels.reshape(-1))
        count = labels.numel()
        if noise is None:
            noise = self._draw_noise(count, rng)
        elif tuple(noise.shape) != (count, self.noise_dim):
            raise ValueError(f'noise must be shaped ({count}, '
                             f'{self.noise_dim}), got {tuple(noise.shape)}')
        device = self.device
        if count == 0:
            return torch.empty(
                0,
                self.img_channels,
                self.img_size,
                self.img_size,
                device=device)
        was_training = network.training
        network.eval()
        step = self.sample_batch_size
        try:
            images = [
                network(noise[start:start + step].to(device),
                        labels[start:start + step].to(device))
                for start in range(0, count, step)
            ]
        finally:
            network.train(was_training)
        return torch.cat(images)

    def check_compatible(self,
                         num_classes: Optional[int] = None,
                         img_size: Optional[int] = None,
                         img_channels: Optional[int] = None) -> None:
        """Check that the GAN fits a dataset; None skips a field.

        Args:
            num_classes (int, optional): the dataset's number of classes (None
                for a regression dataset, i.e. not checked).
            img_size (int, optional): the dataset's image side.
            img_channels (int, optional): the dataset's image channels.

        Raises:
            ValueError: naming the first mismatching field and both values.
        """
        check_fits(self, 'the GAN', num_classes=num_classes,
                   img_size=img_size, img_channels=img_channels)


def check_fits(module, who: str, **wanted) -> None:
    """Raise if an attribute of ``module`` differs from the data's.

    Args:
        module (nn.Module): A cGAN (or what stands in for one).
        who (str): How the message names it.
        **wanted (object): ``field=value`` pairs of the data; None skips a
            field.

    Raises:
        ValueError: naming the first mismatching field and both values.
    """
    for field, value in wanted.items():
        if value is None:
            continue
        own = getattr(module, field)
        if own != value:
            raise ValueError(f'{field} mismatch: {who} has {field}={own} '
                             f'but the data has {field}={value}')


def _to_device(tensor: Optional[torch.Tensor],
               device: torch.device) -> Optional[torch.Tensor]:
    return None if tensor is None else tensor.to(device)
