# Copyright (c) cgankd_plugin contributors.
"""CcGAN's vicinal batches, drawn for a Runner's dataloader."""
import math
from typing import Iterator, List, Optional, Tuple

import numpy as np
import torch
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from ...models.generators.vicinity import (SOFT_WEIGHT_THRESHOLD,
                                           check_vicinity_settings,
                                           draw_vicinal_batch,
                                           rule_of_thumb_kappa,
                                           rule_of_thumb_sigma, soft_nu,
                                           soft_vicinal_weights,
                                           soft_vicinity_radius)
from ...registry import DATA_SAMPLERS
from ..vicinal_dataset import VicinalDataset


@DATA_SAMPLERS.register_module()
class VicinalBatchSampler(Sampler):
    """Batches of CcGAN's discriminator updates, for ``batch_sampler``.

    Each batch holds what one training iteration of
    :class:`~cgankd_plugin.models.generators.ContinuousConditionalGAN`
    scores, drawn from every label of the set
    (:func:`~cgankd_plugin.models.generators.draw_vicinal_batch`): targets
    ``y_i + eps`` at distinct training labels, one real image from each
    target's vicinity, a fake label uniform in it, and (soft vicinity) the
    weights of both; plus fresh targets for the generator update. It
    yields ``(index, draws)`` items for a :class:`VicinalDataset`. The
    draws of batch ``b`` on rank ``r`` come from a generator seeded by
    ``(seed, b, r)``: a run resumed by MMEngine (which replays the
    dataloader to the iteration) draws what an uninterrupted one does.

    ``vicinity``, ``kappa`` and ``sigma`` are the CcGAN's (the same values
    as the model's config; the rule of thumb is computed here from the
    set's labels and handed to the model with each batch, which records it
    and refuses a batch drawn otherwise); ``soft_weight_threshold`` is the
    sampler's alone.

    Args:
        sampler (Sampler): The dataloader's sampler (MMEngine passes it);
            only its ``dataset``, a :class:`VicinalDataset`, is read.
        batch_size (int): Draws per batch (per rank).
        vicinity (str): ``'hard'`` or ``'soft'``.
        kappa (float, optional): The vicinity radius; None or negative for
            the rule of thumb (``|kappa|`` the multiplier).
        sigma (float, optional): The label noise's std; None or negative
            for the rule of thumb.
        soft_weight_threshold (float): Soft vicinity: samples weighing
            less are never drawn.
        seed (int, optional): The draws' seed; None: a seed shared by the
            ranks (``sync_random_seed``).
    """

    def __init__(self,
                 sampler,
                 batch_size: int,
                 vicinity: str = 'hard',
                 kappa: Optional[float] = None,
                 sigma: Optional[float] = None,
                 soft_weight_threshold: float = SOFT_WEIGHT_THRESHOLD,
                 seed: Optional[int] = None) -> None:
        dataset = getattr(sampler, 'dataset', None)
        if not isinstance(dataset, VicinalDataset):
            raise TypeError(
                'VicinalBatchSampler draws from the labels of a '
                'VicinalDataset: set train_dataloader.dataset to '
                f"dict(type='VicinalDataset', dataset=...), not "
                f'{type(dataset).__name__}')
        check_vicinity_settings(vicinity, kappa, 'VicinalBatchSampler')
        if int(batch_size) <= 0:
            raise ValueError('VicinalBatchSampler.batch_size must be '
                             f'positive, got {batch_size}')
        self.sampler = sampler  # DistSamplerSeedHook looks for it
        self.batch_size = int(batch_size)
        self.vicinity = vicinity
        self.num_samples = len(dataset)
        labels = dataset.labels
        self.sorted_labels, self.order = torch.sort(labels, stable=True)
        self.unique_labels = torch.unique_consecutive(self.sorted_labels)
        self.sigma = (rule_of_thumb_sigma(labels)
                      if sigma is None or sigma < 0 else float(sigma))
        if kappa is None or kappa < 0:  # |kappa| x the largest label gap
            multiplier = 1.0 if kappa is None else abs(kappa)
            self.kappa = rule_of_thumb_kappa(labels, multiplier)
        else:
            self.kappa = float(kappa)
        self.nu = soft_nu(self.kappa)
        self.radius = (self.kappa if vicinity == 'hard' else
                       soft_vicinity_radius(self.nu, soft_weight_threshold))
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.rank, _ = get_dist_info()

    def _generator(self, batch: int) -> torch.Generator:
        state = np.random.SeedSequence([self.seed, batch, self.rank])
        return torch.Generator().manual_seed(
            int(state.generate_state(1)[0]))

    def draw(self, batch: int) -> List[Tuple[int, dict]]:
        """The items of batch ``batch`` on this rank.

        Args:
            batch (int): The batch's number (from 0).

        Returns:
            list: ``(index, draws)`` pairs; ``draws`` holds
            ``vicinal_target``, ``fake_label``, ``gen_label``,
            ``real_weight``, ``fake_weight`` (1 in the hard vicinity) and
            the vicinity drawn in (``vicinity_sigma``, ``vicinity_kappa``,
            ``vicinity_soft``).
        """
        rng = self._generator(batch)
        drawn = draw_vicinal_batch(self.sorted_labels, self.unique_labels,
                                   self.batch_size, self.sigma, self.radius,
                                   rng)
        picks = torch.randint(
            self.unique_labels.numel(), (self.batch_size, ), generator=rng)
        gen_labels = self.unique_labels[picks] + self.sigma * torch.randn(
            self.batch_size, generator=rng, dtype=torch.float64)
        ones = torch.ones(self.batch_size, dtype=torch.float64)
        real_weights = fake_weights = ones
        if self.vicinity == 'soft':
            real_weights = soft_vicinal_weights(
                self.sorted_labels[drawn.real_positions], drawn.targets,
                self.nu)
            fake_weights = soft_vicinal_weights(drawn.fake_labels,
                                                drawn.targets, self.nu)
        indices = self.order[drawn.real_positions]
        return [(int(indices[j]),
                 dict(vicinal_target=float(drawn.targets[j]),
                      fake_label=float(drawn.fake_labels[j]),
                      gen_label=float(gen_labels[j]),
                      real_weight=float(real_weights[j]),
                      fake_weight=float(fake_weights[j]),
                      vicinity_sigma=self.sigma,
                      vicinity_kappa=self.kappa,
                      vicinity_soft=float(self.vicinity == 'soft')))
                for j in range(self.batch_size)]

    def __iter__(self) -> Iterator[List[Tuple[int, dict]]]:
        batch = 0
        while True:
            yield self.draw(batch)
            batch += 1

    def __len__(self) -> int:
        """Batches in one nominal pass over the set (the draws never end)."""
        return max(1, math.ceil(self.num_samples / self.batch_size))
