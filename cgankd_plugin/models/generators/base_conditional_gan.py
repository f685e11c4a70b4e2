# Copyright (c) cgankd_plugin contributors.
"""What the class- and continuous-conditional GANs share.

An MMEngine ``Runner`` trains them, as it trains mmagic's GANs: it calls
:meth:`train_step` with a batch of its dataloader and an
``OptimWrapperDict`` (``generator``, ``discriminator``); each call
updates the discriminator, every ``discriminator_steps``-th call the
generator and its EMA too (configs in ``configs/cgan/``; a CcGAN's
batches are drawn by ``VicinalBatchSampler``, as its vicinal batches
need every label).
:meth:`sample`, :meth:`check_compatible` and the plain-tensor
``state_dict`` serve the bank.
"""
import contextlib
from typing import Dict, Iterator, Optional, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.dist import get_dist_info
from mmengine.logging import MessageHub
from mmengine.model import BaseModel, is_model_wrapper
from mmengine.optim import OptimWrapperDict

from cgankd_plugin.registry import MODELS
from .ddp_networks import strip_wrapper_prefixes
from .diff_augment import check_policy, diff_augment
from .discriminator_batch import DiscriminatorBatch
from .ema import build_generator_ema, copy_into_ema
from .gan_data_preprocessor import ConditionalGANDataPreprocessor
from .gan_fields import fill_config
from .gan_losses import hinge_discriminator_loss, hinge_generator_loss


class BaseConditionalGAN(BaseModel):
    """Shared machinery of a conditional GAN trained with the hinge loss.

    Subclasses say what a Runner batch's discriminator update scores
    (:meth:`_discriminator_batch`), at which labels the generator
    generates (:meth:`_generator_labels`) and which labels it samples at
    (:meth:`_check_sample_labels`).

    Args:
        generator (dict): config of the generator; ``num_classes`` (unless
            None), ``noise_dim``, ``img_size`` and ``img_channels`` are
            filled in.
        discriminator (dict): config of the discriminator; ``num_classes``
            (unless None), ``img_size`` and ``img_channels`` are filled in.
        num_classes (int, optional): number of classes; None for a
            continuous label.
        noise_dim (int): width of the noise vector.
        img_size (int): image side.
        img_channels (int): image channels.
        generator_steps (int): generator updates per generator turn.
        discriminator_steps (int): Runner iterations (each one
            discriminator update) per generator turn.
        ema_config (dict, optional): The generator's EMA, as mmagic's GANs
            set it: ``dict(type='ExponentialMovingAverage', momentum,
            interval, update_buffers, start_iter)`` (see
            :func:`~cgankd_plugin.models.generators.ema.build_generator_ema`;
            missing keys take ``DEFAULT_EMA_CONFIG``'s values), or None for
            none.
        diff_augment (str, optional): DiffAugment policy, e.g.
            ``'color,translation,cutout'``, or None.
        data_preprocessor (dict | nn.Module, optional): How a Runner's
            batches are cast; None: :class:`ConditionalGANDataPreprocessor`.
        train_seed (int): Seed of the draws of a Runner iteration (with
            the iteration and the rank; see :meth:`train_step`).
        flip_reals (bool): Flip each real image horizontally with
            probability 0.5 before the discriminator sees it (BigGAN's
            ``--augment``, which the official CIFAR-100 and ImageNet-100
            cGANs train with). Drawn on the device, from the iteration's
            generator, so resumed runs flip alike; the dataset's pipeline
            (also cDR-RS's and the quality figure's real set) stays
            deterministic.
        init_cfg (dict, optional): mmengine init config.
    """

    is_continuous: bool = False
    # Images generated per forward pass in :meth:`sample`.
    sample_batch_size: int = 500

    def __init__(self,
                 generator: dict,
                 discriminator: dict,
                 num_classes: Optional[int],
                 noise_dim: int,
                 img_size: int,
                 img_channels: int,
                 generator_steps: int,
                 discriminator_steps: int,
                 ema_config: Optional[dict],
                 diff_augment: Optional[str],
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 train_seed: int = 0,
                 flip_reals: bool = False,
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
        self.num_classes = num_classes
        self.noise_dim = noise_dim
        self.img_size = img_size
        self.img_channels = img_channels
        self.generator_steps = generator_steps
        self.discriminator_steps = discriminator_steps
        self.diff_augment = diff_augment
        self.train_seed = int(train_seed)
        self.flip_reals = bool(flip_reals)
        fields = dict(img_size=img_size, img_channels=img_channels)
        if num_classes is not None:
            fields = dict(num_classes=num_classes, **fields)
        self.generator = MODELS.build(
            fill_config(generator, dict(fields, noise_dim=noise_dim),
                        'generator'))
        self.discriminator = MODELS.build(
            fill_config(discriminator, fields, 'discriminator'))
        # the averaged generator (None: none) and the generator turns
        # during which it is a copy of the generator
        self.generator_ema, self.ema_start_iter = build_generator_ema(
            self.generator, ema_config)
        # generator turns done (the EMA's schedule; kept in checkpoints),
        # and their count on the host, which train_step reads instead
        self.register_buffer('iteration', torch.zeros((), dtype=torch.long))
        self._generator_turns = 0
        # one set of key names, wrapped for DDP or not (MMEngine saves
        # model.state_dict() of the unwrapped GAN, whose networks
        # MMSeparateDistributedDataParallel wraps one by one)
        self.register_state_dict_post_hook(strip_wrapper_prefixes)

    # -- hooks for the subclasses --------------------------------------------

    def _check_sample_labels(self, labels: torch.Tensor) -> torch.Tensor:
        """Validate labels to sample at; return them in the G's dtype."""
        raise NotImplementedError

    def _discriminator_batch(self, data: dict, count: int,
                             rng: torch.Generator) -> DiscriminatorBatch:
        """What a Runner iteration's discriminator update scores.

        Args:
            data (dict): The preprocessed batch (``labels``, ``vicinal``).
            count (int): Its size.
            rng (torch.Generator): The iteration's generator, on the
                batch's device.

        Returns:
            DiscriminatorBatch: The conditions and fake labels, on the
            batch's device (the real images are the batch's).
        """
        raise NotImplementedError

    def _generator_labels(self, data: dict, count: int, rng: torch.Generator,
                          turn: int) -> torch.Tensor:
        """The labels of generator update ``turn`` of a Runner iteration,
        on the batch's device."""
        raise NotImplementedError

    # -- helpers -------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        """The device the generator's weights are on."""
        return next(self.generator.parameters()).device

    def _draw_noise(self,
                    count: int,
                    rng: Optional[torch.Generator],
                    device: Optional[torch.device] = None) -> torch.Tensor:
        return torch.randn(
            count, self.noise_dim, generator=rng, device=device)

    def _augment(self, images: torch.Tensor,
                 rng: torch.Generator) -> torch.Tensor:
        return diff_augment(images, self.diff_augment, rng)

    def _update_ema(self) -> None:
        """Update the EMA after a generator turn.

        After each of the first ``start_iter`` turns (at least the first
        one) the EMA is a copy of the generator, buffers included, as in
        mmagic's GANs; then MMEngine's ``update_parameters`` averages.
        The turn is counted on the host: nothing is read from the device.
        """
        if self.generator_ema is None:
            return
        generator = _unwrapped(self.generator)
        if self._generator_turns + 1 < self.ema_start_iter:
            copy_into_ema(self.generator_ema, generator)
        else:
            self.generator_ema.update_parameters(generator)

    def _iteration_generator(self, step: int,
                             device: torch.device) -> torch.Generator:
        """The random generator of Runner iteration ``step`` on this rank.

        It lives on ``device``, where the iteration's draws are made (a
        ``meta`` device, whose tensors hold no values, takes the CPU's).
        """
        rank, _ = get_dist_info()
        seed = np.random.SeedSequence([self.train_seed, step, rank])
        where = torch.device('cpu') if device.type == 'meta' else device
        return torch.Generator(device=where).manual_seed(
            int(seed.generate_state(1)[0]))

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        """Load as torch does; take the turn count from the loaded copy.

        That copy is on the host when MMEngine loads a checkpoint, so the
        count costs no read of the device here, nor in :meth:`train_step`.
        """
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        turns = state_dict.get(prefix + 'iteration')
        if turns is not None:
            self._generator_turns = int(turns)

    # -- the losses ----------------------------------------------------------

    def _discriminator_loss(self, real_images: torch.Tensor,
                            batch: DiscriminatorBatch, noise: torch.Tensor,
                            rng: torch.Generator) -> torch.Tensor:
        """The hinge loss of one discriminator update (on the device)."""
        with torch.no_grad():
            fake_images = _unwrapped(self.generator)(noise, batch.fake_labels)
        inputs = self._augment(torch.cat([real_images, fake_images]), rng)
        conditions = torch.cat([batch.real_conditions, batch.fake_conditions])
        logits = self.discriminator(inputs, conditions)
        real_logits, fake_logits = logits.split(
            [real_images.size(0), fake_images.size(0)])
        real_term, fake_term = hinge_discriminator_loss(
            real_logits, fake_logits, batch.real_weights, batch.fake_weights)
        return real_term + fake_term

    def _generator_loss(self, labels: torch.Tensor, noise: torch.Tensor,
                        rng: torch.Generator) -> torch.Tensor:
        """The hinge loss of one generator update (on the device)."""
        fake_images = self.generator(noise, labels)
        logits = _unwrapped(self.discriminator)(
            self._augment(fake_images, rng), labels)
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
        ``discriminator_steps`` iterations also a generator turn
        (``generator_steps`` updates) and the EMA's update.

        The real batch is the dataloader's; a class-conditional GAN
        generates its fakes at classes drawn uniformly, a CcGAN scores them
        at the vicinal draws that came with the batch
        (``VicinalBatchSampler``). Every draw of the iteration (labels,
        noise, DiffAugment) comes from a generator seeded by
        ``train_seed``, the iteration (the ``iter`` of the current
        ``MessageHub``) and the rank, so a run resumed from a checkpoint
        draws what an uninterrupted one does (MMEngine restores no random
        state; its loop replays the dataloader to the iteration).

        Past the data preprocessor (which moves the batch to the device)
        the step reads nothing back from the device: the draws are made
        there, and counts and checks are kept on the host. The forwards
        of each update run inside its wrapper's ``optim_context``, so an
        ``AmpOptimWrapper`` autocasts them; the losses are float32.

        Args:
            data (dict): A collated batch (``inputs``, ``data_samples``).
            optim_wrapper (OptimWrapperDict): ``generator`` and
                ``discriminator``.

        Returns:
            Dict[str, torch.Tensor]: ``loss_disc``, and ``loss_gen`` (of
            the turn's last update) at the iterations that update the
            generator.
        """
        data = self.data_preprocessor(data, True)
        real_images = data['inputs']
        self.check_compatible(
            img_size=real_images.size(2), img_channels=real_images.size(1))
        device, count = real_images.device, real_images.size(0)
        self.generator.train()
        self.discriminator.train()
        step = MessageHub.get_current_instance().get_info('iter', 0)
        rng = self._iteration_generator(step, device)
        if self.flip_reals:
            flip = torch.rand(count, 1, 1, 1, generator=rng,
                              device=device) < 0.5
            real_images = torch.where(flip, real_images.flip(3),
                                      real_images)
        batch = self._discriminator_batch(data, count, rng)
        noise = self._draw_noise(count, rng, device)
        disc_optim = optim_wrapper['discriminator']
        with disc_optim.optim_context(self.discriminator):
            loss = self._discriminator_loss(real_images, batch, noise, rng)
        disc_optim.update_params(loss)
        log_vars = dict(loss_disc=loss.detach())
        if (step + 1) % self.discriminator_steps:
            return log_vars
        gen_optim = optim_wrapper['generator']
        with self._frozen_discriminator():
            for turn in range(self.generator_steps):
                gen_labels = self._generator_labels(data, count, rng, turn)
                noise = self._draw_noise(count, rng, device)
                with gen_optim.optim_context(self.generator):
                    loss = self._generator_loss(gen_labels, noise, rng)
                gen_optim.update_params(loss)
        self._update_ema()
        self.iteration.add_(1)
        self._generator_turns += 1
        log_vars['loss_gen'] = loss.detach()
        return log_vars

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
            torch.Tensor: Images in ``[-1, 1]`` (by the averaged generator
            when there is one).
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
            use_ema (bool): Use the averaged generator
                (``generator_ema.module``) when there is one.

        Returns:
            torch.Tensor: (M, img_channels, img_size, img_size) float images
            in [-1, 1], on the generator's device.
        """
        network = _unwrapped(self.generator)
        if use_ema and self.generator_ema is not None:
            network = self.generator_ema.module
        labels = self._check_sample_labels(labels.reshape(-1))
        count = labels.numel()
        if noise is None:
            noise = self._draw_noise(count, rng)
        elif tuple(noise.shape) != (count, self.noise_dim):
            raise ValueError(f'noise must be shaped ({count}, '
                             f'{self.noise_dim}), got {tuple(noise.shape)}')
        device = self.device
        if count == 0:
            return torch.empty(0, self.img_channels, self.img_size,
                               self.img_size, device=device)
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
        wanted = dict(
            num_classes=num_classes, img_size=img_size,
            img_channels=img_channels)
        for field, value in wanted.items():
            own = getattr(self, field)
            if value is not None and own != value:
                raise ValueError(f'{field} mismatch: the GAN has {field}='
                                 f'{own} but the data has {field}={value}')


def _unwrapped(network: nn.Module) -> nn.Module:
    """``network`` without its model wrapper (DDP), if it has one."""
    return network.module if is_model_wrapper(network) else network
