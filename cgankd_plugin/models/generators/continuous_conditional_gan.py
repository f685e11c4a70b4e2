# Copyright (c) cgankd_plugin contributors.
"""Continuous-conditional GAN (CcGAN), cGAN-KD's generator for regression."""
import math
from typing import Optional

import torch

from cgankd_plugin.registry import MODELS
from .base_conditional_gan import BaseConditionalGAN
from .discriminator_batch import DiscriminatorBatch
from .vicinity import check_vicinity_settings


@MODELS.register_module()
class ContinuousConditionalGAN(BaseConditionalGAN):
    """CcGAN: a GAN conditioned on a scalar label in [0, 1].

    Each discriminator update scores, at target labels ``y = y_i + eps``
    (``y_i`` a distinct training label, ``eps ~ N(0, sigma^2)``), one real
    image from each target's vicinity and a fake generated at a label
    drawn uniformly from it, with the hard (HVDL) or soft (SVDL, weighted
    by ``exp(-nu (y' - y)^2)``) vicinal hinge loss. Each generator update
    generates at fresh targets. ``VicinalBatchSampler`` draws all of these
    with the Runner's batch (they need every training label); the model
    scores what the batch brings.

    ``sigma`` and ``kappa`` given as None or negative come from CcGAN's
    rule of thumb, which the sampler computes from the training labels:
    the model records the values of its first batch (in the state dict)
    and refuses a batch drawn with others. The soft vicinity uses
    ``nu = 1 / kappa^2`` (so, unlike CcGAN's scripts, a positive
    ``kappa`` is always the radius scale, never ``nu``).

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
        discriminator_steps (int): Runner iterations (each one
            discriminator update) per generator turn (of one generator
            update: each batch brings the labels of one).
        vicinity (str): ``'hard'`` or ``'soft'``.
        kappa (float, optional): vicinity radius; None or negative for the
            sampler's rule of thumb.
        sigma (float, optional): std of the label noise; None or negative
            for the sampler's rule of thumb.
        ema_config (dict, optional): The generator's EMA (see
            :class:`BaseConditionalGAN`), or None (CcGAN keeps none).
        data_preprocessor (dict, optional): How a Runner's batches are cast
            (default: ``ConditionalGANDataPreprocessor``).
        init_cfg (dict, optional): mmengine init config.
        diff_augment (str, optional): DiffAugment policy (cGAN-KD's CcGANs use
            ``'color,translation,cutout'``), or None.
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
                 discriminator_steps: int = 1,
                 vicinity: str = 'hard',
                 kappa: Optional[float] = None,
                 sigma: Optional[float] = None,
                 ema_config: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 diff_augment: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 train_seed: int = 0) -> None:
        check_vicinity_settings(vicinity, kappa, 'ContinuousConditionalGAN')
        super().__init__(
            generator,
            discriminator,
            num_classes=None,
            noise_dim=noise_dim,
            img_size=img_size,
            img_channels=img_channels,
            generator_steps=1,
            discriminator_steps=discriminator_steps,
            ema_config=ema_config,
            diff_augment=diff_augment,
            data_preprocessor=data_preprocessor,
            train_seed=train_seed,
            init_cfg=init_cfg)
        self.vicinity = vicinity
        # NaN marks a value still to come from the sampler's rule of thumb.
        given_sigma = math.nan if sigma is None or sigma < 0 else sigma
        given_kappa = math.nan if kappa is None or kappa < 0 else kappa
        self.register_buffer('vicinity_sigma',
                             torch.tensor(given_sigma, dtype=torch.float64))
        self.register_buffer('vicinity_kappa',
                             torch.tensor(given_kappa, dtype=torch.float64))
        # the same two values on the host, which train_step compares
        self._host_vicinity = dict(sigma=given_sigma, kappa=given_kappa)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        """Load as torch does; take sigma / kappa from the loaded copy."""
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        for name in self._host_vicinity:
            value = state_dict.get(f'{prefix}vicinity_{name}')
            if value is not None:
                self._host_vicinity[name] = float(value)

    # -- vicinity parameters -------------------------------------------------

    @property
    def sigma(self) -> Optional[float]:
        """Std of the label noise; None until the first batch brings it."""
        value = float(self.vicinity_sigma)
        return None if math.isnan(value) else value

    @property
    def kappa(self) -> Optional[float]:
        """Vicinity radius; None until the first batch brings it."""
        value = float(self.vicinity_kappa)
        return None if math.isnan(value) else value

    # -- labels and the batch's draws ----------------------------------------

    def _check_sample_labels(self, labels: torch.Tensor) -> torch.Tensor:
        if not labels.dtype.is_floating_point:
            raise TypeError('continuous labels must be a float tensor, got '
                            f'{labels.dtype}')
        return labels.float()

    def _discriminator_batch(self, data: dict, count: int,
                             rng: torch.Generator) -> DiscriminatorBatch:
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
            real_conditions=targets,
            fake_labels=draws['fake_label'].float(),
            fake_conditions=targets,
            real_weights=draws['real_weight'].float() if soft else None,
            fake_weights=draws['fake_weight'].float() if soft else None)

    def _generator_labels(self, data: dict, count: int, rng: torch.Generator,
                          turn: int) -> torch.Tensor:
        return data['vicinal']['gen_label'].float()

    def _adopt_sampler_vicinity(self, draws: dict) -> None:
        """Record the sampler's sigma / kappa; refuse other ones.

        The sampler's settings come on the host and are compared with
        the host copies of the buffers: nothing is read from the device.
        """
        soft = bool(draws['vicinity_soft'][0])
        if soft != (self.vicinity == 'soft'):
            raise ValueError(
                f"ContinuousConditionalGAN.vicinity is '{self.vicinity}' but "
                'VicinalBatchSampler draws the '
                f"'{'soft' if soft else 'hard'}' vicinity: give both the "
                'same vicinity')
        for name, mine in list(self._host_vicinity.items()):
            value = float(draws[f'vicinity_{name}'][0])
            if math.isnan(mine):
                getattr(self, f'vicinity_{name}').fill_(value)
                self._host_vicinity[name] = value
            elif not math.isclose(mine, value, rel_tol=1e-9):
                raise ValueError(
                    f'ContinuousConditionalGAN.{name} is {mine:.6g} but '
                    f'VicinalBatchSampler draws with {name}={value:.6g}: '
                    'give both the same vicinity settings')
