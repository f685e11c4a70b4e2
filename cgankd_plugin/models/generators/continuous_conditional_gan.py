# Copyright (c) cgankd_plugin contributors.
"""Continuous-conditional GAN (CcGAN), cGAN-KD's generator for regression."""
import math
from typing import Optional, Tuple

import torch

from cgankd_plugin.registry import MODELS
from .base_conditional_gan import BaseConditionalGAN
from .indexed_training import DiscriminatorBatch
from .vicinity import (SOFT_WEIGHT_THRESHOLD, check_vicinity_settings,
                       draw_vicinal_batch, rule_of_thumb_kappa,
                       rule_of_thumb_sigma, soft_nu, soft_vicinal_weights,
                       soft_vicinity_radius)


@MODELS.register_module()
class ContinuousConditionalGAN(BaseConditionalGAN):
    """CcGAN: a GAN conditioned on a scalar label in [0, 1].

    Each discriminator update draws target labels ``y = y_i + eps``
    (``y_i`` a distinct training label, ``eps ~ N(0, sigma^2)``), one real
    image from each target's vicinity and a fake generated at a label drawn
    uniformly from it, and scores both at the target with the hard
    (HVDL) or soft (SVDL, weighted by ``exp(-nu (y' - y)^2)``) vicinal
    hinge loss. Each generator update generates at fresh targets.

    ``sigma`` and ``kappa`` follow CcGAN's rule of thumb, computed from the
    training labels the first time :meth:`train_on_tensors` sees them (under
    a Runner: as ``VicinalBatchSampler`` computed them, with its first
    batch) and then kept (in the state dict) when they are None or
    negative: ``sigma =
    1.06 std(y) n^(-1/5)``; ``kappa = m * (max gap between consecutive
    sorted distinct labels)`` with ``m = |kappa|`` for a negative
    ``kappa`` (as CcGAN's ``--kappa -2``) and 1 for None. The soft
    vicinity uses ``nu = 1 / kappa^2`` (so, unlike CcGAN's scripts, a
    positive ``kappa`` is always the radius scale, never ``nu``).

    Args:
        generator (dict): config of a registered generator (e.g.
            ``dict(type='CcGANGenerator')``); ``noise_dim``, ``img_size``
            and ``img_channels`` are filled in.
        discriminator (dict): config of a registered discriminator (e.g.
            ``dict(type='CcGANDiscriminator')``); ``img_size`` and
            ``img_channels`` are filled in.
        noise_dim (int): width of the noise vector.
        img_size (int): image side (32 or 64 for the CcGAN networks).
        img_channels (int): image channels.
        generator_steps (int): generator updates per turn.
        discriminator_steps (int): discriminator updates per generator
            turn (see :class:`BaseConditionalGAN`).
        vicinity (str): ``'hard'`` or ``'soft'``.
        kappa (float, optional): vicinity radius; None or negative for the rule
            of thumb.
        sigma (float, optional): std of the label noise; None or negative for
            the rule of thumb.
        ema_config (dict, optional): ``dict(momentum, start_iter)`` of an EMA
            generator, or None (CcGAN keeps none).
        data_preprocessor (dict, optional): How a Runner's batches are cast
            (default: ``ConditionalGANDataPreprocessor``).
        init_cfg (dict, optional): mmengine init config.
        diff_augment (str, optional): DiffAugment policy (cGAN-KD's CcGANs use
            ``'color,translation,cutout'``), or None.
        soft_weight_threshold (float): in the soft vicinity, samples weighing
            less are never drawn (CcGAN's ``nonzero_soft_weight_threshold``).
        train_seed (int): Seed of the draws of a Runner iteration (with
            the iteration and the rank; noise and DiffAugment: the vicinal
            draws are ``VicinalBatchSampler``'s).
    """

    is_continuous = True

    def __init__(self,
                 generator: dict,
                 discriminator: dict,
                 noise_dim: int = 128,
                 img_size: int = 64,
                 img_channels: int = 3,
                 generator_steps: int = 1,
                 discriminator_steps: int = 1,
                 vicinity: str = 'hard',
                 kappa: Optional[float] = None,
                 sigma: Optional[float] = None,
                 ema_config: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 diff_augment: Optional[str] = None,
                 soft_weight_threshold: float = SOFT_WEIGHT_THRESHOLD,
                 data_preprocessor: Optional[dict] = None,
                 train_seed: int = 0) -> None:
        check_vicinity_settings(vicinity, kappa, 'ContinuousConditionalGAN')
        if not 0.0 < soft_weight_threshold < 1.0:
            raise ValueError('soft_weight_threshold must be in (0, 1), got '
                             f'{soft_weight_threshold}')
        super().__init__(
            generator,
            discriminator,
            generator_fields=dict(
                noise_dim=noise_dim,
                img_size=img_size,
                img_channels=img_channels),
            discriminator_fields=dict(
                img_size=img_size, img_channels=img_channels),
            noise_dim=noise_dim,
            img_size=img_size,
            img_channels=img_channels,
            generator_steps=generator_steps,
            discriminator_steps=discriminator_steps,
            ema_config=ema_config,
            diff_augment=diff_augment,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.num_classes = None
        self.train_seed = int(train_seed)
        self.vicinity = vicinity
        self.soft_weight_threshold = soft_weight_threshold
        self.kappa_multiplier = (1.0
                                 if kappa is None or kappa > 0 else abs(kappa))
        # NaN marks a value still to come from the rule of thumb.
        given_sigma = math.nan if sigma is None or sigma < 0 else sigma
        given_kappa = math.nan if kappa is None or kappa < 0 else kappa
        self.register_buffer('vicinity_sigma',
                             torch.tensor(given_sigma, dtype=torch.float64))
        self.register_buffer('vicinity_kappa',
                             torch.tensor(given_kappa, dtype=torch.float64))
        self._label_cache_key: Optional[tuple] = None
        self._label_cache: Optional[Tuple[torch.Tensor, ...]] = None

    # -- vicinity parameters -------------------------------------------------

    @property
    def sigma(self) -> Optional[float]:
        """Std of the label noise; None until the rule of thumb has run."""
        value = float(self.vicinity_sigma)
        return None if math.isnan(value) else value

    @property
    def kappa(self) -> Optional[float]:
        """Vicinity radius; None until the rule of thumb has run."""
        value = float(self.vicinity_kappa)
        return None if math.isnan(value) else value

    @property
    def nu(self) -> Optional[float]:
        """The soft-vicinity weight decay ``1 / kappa^2``."""
        kappa = self.kappa
        return None if kappa is None else soft_nu(kappa)

    @property
    def vicinity_radius(self) -> Optional[float]:
        """How far from a target real samples and fake labels are drawn."""
        if self.kappa is None:
            return None
        if self.vicinity == 'hard':
            return self.kappa
        return soft_vicinity_radius(self.nu, self.soft_weight_threshold)

    def set_vicinity_from_labels(self, labels: torch.Tensor) -> None:
        """Fill in ``sigma`` / ``kappa`` still missing by the rule of thumb.

        Args:
            labels (torch.Tensor): (N,) training labels in [0, 1].
        """
        if self.sigma is None:
            self.vicinity_sigma.fill_(rule_of_thumb_sigma(labels))
        if self.kappa is None:
            self.vicinity_kappa.fill_(
                rule_of_thumb_kappa(labels, self.kappa_multiplier))

    # -- label handling ------------------------------------------------------

    def _check_training_labels(self, labels: torch.Tensor) -> None:
        if not labels.dtype.is_floating_point:
            raise TypeError('continuous labels must be a float tensor '
                            f'normalised to [0, 1], got {labels.dtype}')
        key = (labels.data_ptr(), labels.numel(), labels._version,
               str(labels.device))
        if key == self._label_cache_key:
            return
        labels = labels.detach().cpu().double()
        if labels.numel() and (float(labels.min()) < 0
                               or float(labels.max()) > 1):
            raise ValueError('continuous labels must be normalised to [0, '
                             f'1], got [{float(labels.min())}, '
                             f'{float(labels.max())}]')
        sorted_labels, order = torch.sort(labels, stable=True)
        unique_labels = torch.unique_consecutive(sorted_labels)
        self.set_vicinity_from_labels(labels)
        self._label_cache = (order, sorted_labels, unique_labels)
        self._label_cache_key = key

    def _check_sample_labels(self, labels: torch.Tensor) -> torch.Tensor:
        if not labels.dtype.is_floating_point:
            raise TypeError('continuous labels must be a float tensor, got '
                            f'{labels.dtype}')
        return labels.float()

    def _draw_targets(self, batch_size: int,
                      rng: torch.Generator) -> torch.Tensor:
        _, _, unique_labels = self._label_cache
        picks = torch.randint(
            unique_labels.numel(), (batch_size, ), generator=rng)
        noise = torch.randn(batch_size, generator=rng, dtype=torch.float64)
        return unique_labels[picks] + self.sigma * noise

    def _draw_discriminator_batch(self, labels: torch.Tensor, batch_size: int,
                                  rng: torch.Generator) -> DiscriminatorBatch:
        order, sorted_labels, unique_labels = self._label_cache
        batch = draw_vicinal_batch(sorted_labels, unique_labels, batch_size,
                                   self.sigma, self.vicinity_radius, rng)
        real_weights = fake_weights = None
        if self.vicinity == 'soft':
            real_labels = sorted_labels[batch.real_positions]
            real_weights = soft_vicinal_weights(real_labels, batch.targets,
                                                self.nu).float()
            fake_weights = soft_vicinal_weights(batch.fake_labels,
                                                batch.targets,
                                                self.nu).float()
        targets = batch.targets.float()
        return DiscriminatorBatch(
            real_indices=order[batch.real_positions],
            real_conditions=targets,
            fake_labels=batch.fake_labels.float(),
            fake_conditions=targets,
            real_weights=real_weights,
            fake_weights=fake_weights)

    def _draw_generator_labels(self, labels: torch.Tensor, batch_size: int,
                               rng: torch.Generator) -> torch.Tensor:
        return self._draw_targets(batch_size, rng).float()

    # -- under a Runner: the draws come with the batch --------------------

    def _runner_discriminator_batch(self, data: dict, count: int,
                                    rng: torch.Generator
                                    ) -> DiscriminatorBatch:
        draws = data.get('vicinal')
        if draws is None:
            raise ValueError(
                'ContinuousConditionalGAN.train_step: the batch carries no '
                'vicinal draws; train the CcGAN on '
                "train_dataloader.dataset=dict(type='VicinalDataset', ...) "
                "with batch_sampler=dict(type='VicinalBatchSampler', ...) "
                '(as configs/cgan/ccgan_*.py do)')
        self._adopt_sampler_vicinity(draws)
        targets = draws['vicinal_target'].float()
        soft = self.vicinity == 'soft'
        return DiscriminatorBatch(
            real_indices=None,
            real_conditions=targets,
            fake_labels=draws['fake_label'].float(),
            fake_conditions=targets,
            real_weights=draws['real_weight'].float() if soft else None,
            fake_weights=draws['fake_weight'].float() if soft else None)

    def _runner_generator_labels(self, data: dict, count: int,
                                 rng: torch.Generator,
                                 turn: int) -> torch.Tensor:
        if turn:
            raise ValueError(
                'ContinuousConditionalGAN: under a Runner the batch brings '
                'the labels of one generator update; set '
                f'generator_steps=1 (got {self.generator_steps})')
        return data['vicinal']['gen_label'].float()

    def _adopt_sampler_vicinity(self, draws: dict) -> None:
        """Record the sampler's sigma / kappa; refuse other ones."""
        soft = bool(draws['vicinity_soft'][0])
        if soft != (self.vicinity == 'soft'):
            raise ValueError(
                f"ContinuousConditionalGAN.vicinity is '{self.vicinity}' but "
                'VicinalBatchSampler draws the '
                f"'{'soft' if soft else 'hard'}' vicinity: give both the "
                'same vicinity')
        for name, buffer in (('sigma', self.vicinity_sigma),
                             ('kappa', self.vicinity_kappa)):
            value = float(draws[f'vicinity_{name}'][0])
            mine = float(buffer)
            if math.isnan(mine):
                buffer.fill_(value)
            elif not math.isclose(mine, value, rel_tol=1e-9):
                raise ValueError(
                    f'ContinuousConditionalGAN.{name} is {mine:.6g} but '
                    f'VicinalBatchSampler draws with {name}={value:.6g}: '
                    'give both the same vicinity settings')
