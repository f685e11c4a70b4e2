# Copyright (c) cgankd_plugin contributors.
"""cDR-RS in a bank build: the density-ratio model, its bounds and ratios.

Rank 0 fits the model (:meth:`SubsamplingMixin.fit_subsampler`) on the
teacher's features of the real images (and of their horizontal flips)
against fakes the generator draws afresh at every step, or loads it from
where it saves it: ``dre_cache`` (fitted by an earlier build with the same
generator, teacher, data and fit settings) if given, else ``dre.pth`` in
the build folder (a resumed build). After a barrier the other ranks load
that file, so every rank rejects with the same model. The model lives,
and every feature it reads stays, on the teacher's device; a draw's
ratios come to the host once, for the rejection.
"""
import functools
import os.path as osp
from typing import Optional, Tuple

import numpy as np
import torch

from ...structures import RealImages
from ...utils.atomic_io import atomic_torch_save
from ...utils.progress import ProgressLog
from ..bank import hash_settings
from ..density_ratio import (DensityRatioMLP, fit_density_ratio,
                             predict_density_ratio)
from .rng import DRE_STREAM, MAX_RATIO_STREAM, seeded, to_uint8

DRE_FILE = 'dre.pth'
#: The sampler's settings of ``subsample`` (the rest go to the fit):
#: ``burn_in``, fresh fakes per condition whose largest ratio starts ``M``
#: (the official --samp_burnin_size of CIFAR-100); ``flip``, flip the real
#: images at random in the fit (the official classification and UTKFace
#: code does; a flip would change a steering angle's sign).
SAMPLER_DEFAULTS = dict(burn_in=5000, flip=True)
#: The keys of ``subsample`` that go to :func:`fit_density_ratio`.
FIT_KEYS = ('epochs', 'batch_size', 'lr', 'penalty', 'hidden_dims',
            'dropout', 'lr_decay_epochs', 'lr_decay_factor', 'weight_decay',
            'betas')


def subsample_settings(subsample: dict) -> Tuple[dict, dict]:
    """Split the cDR-RS settings into the sampler's and the fit's.

    Args:
        subsample (dict): ``CGANHook.subsample``: :data:`SAMPLER_DEFAULTS`
            keys and :data:`FIT_KEYS`.

    Returns:
        tuple[dict, dict]: The sampler's settings (``burn_in``, ``flip``,
        defaults filled in) and the keywords of the fit.

    Raises:
        ValueError: naming an unknown key or a bad ``burn_in`` / ``flip``.
    """
    unknown = sorted(set(subsample) - set(SAMPLER_DEFAULTS) - set(FIT_KEYS))
    if unknown:
        raise ValueError(
            f'CGANHook.subsample: unknown keys {unknown}; use '
            f'{sorted(SAMPLER_DEFAULTS) + list(FIT_KEYS)}')
    sampler = {k: subsample.get(k, v) for k, v in SAMPLER_DEFAULTS.items()}
    if not (isinstance(sampler['burn_in'], int) and sampler['burn_in'] > 0):
        raise ValueError(
            'CGANHook.subsample.burn_in must be an int > 0 (fakes per '
            f'condition for M), got {sampler["burn_in"]!r}')
    if not isinstance(sampler['flip'], bool):
        raise ValueError('CGANHook.subsample.flip must be True or False, '
                         f'got {sampler["flip"]!r}')
    return sampler, {k: subsample[k] for k in FIT_KEYS if k in subsample}


def dre_cache_file(cache_dir: str, generator_hash: str, filter_hash: str,
                   teacher_view: list, real: RealImages, subsample: dict,
                   seed: int, batch_size: int) -> str:
    """Where a cDR-RS model is cached: named by all its fit depends on.

    Args:
        cache_dir (str): The cache folder.
        generator_hash (str): The cGAN's weights hash.
        filter_hash (str): The teacher's (filtering network's) hash.
        teacher_view (list): The teacher's view, as plain data.
        real (RealImages): The real images the fit reads (their digest
            is read batch by batch) and their cGAN labels.
        subsample (dict): The cDR-RS settings (``burn_in``, which only
            the sampling reads, aside).
        seed (int): The build's seed.
        batch_size (int): The build's batch size (its feature batches).

    Returns:
        str: ``<cache_dir>/dre_<key>.pth``.
    """
    key = hash_settings(
        dict(
            version=2,
            generator=generator_hash,
            filter_net=filter_hash,
            teacher_view=teacher_view,
            real_data=real.digest(batch_size),
            subsample={k: v
                       for k, v in subsample.items() if k != 'burn_in'},
            seed=seed,
            bank_batch_size=batch_size))
    return osp.join(cache_dir, f'dre_{key[:20]}.pth')


class SubsamplingMixin:
    """The cDR-RS part of :class:`BaseBankBuilder`.

    It reads the builder's ``gan``, ``teacher``, ``gan_labels``,
    ``is_regression``, ``num_conditions``, ``subsample``, ``batch_size``,
    ``seed``, ``log``, ``dre_cache`` and ``build_dir``, records its
    generator passes in ``draws`` and sets ``dre`` (None: cDR-RS off).
    """

    @property
    def _dre_num_classes(self) -> Optional[int]:
        """The classes cDR-RS conditions on (None: a continuous label)."""
        return None if self.is_regression else self.num_conditions

    def _fake_features(self, labels: torch.Tensor,
                       rng: torch.Generator) -> torch.Tensor:
        """Teacher features of new fakes at ``labels`` (uint8, as stored).

        Returns:
            torch.Tensor: ``(len(labels), D)`` on the teacher's device.
        """
        return self.teacher(to_uint8(self.gan.sample(labels, rng=rng)))[0]

    def _ratios(self, feats: torch.Tensor,
                conditions: np.ndarray) -> np.ndarray:
        """The density ratio of each candidate (its teacher features)."""
        labels = self.gan_labels[torch.as_tensor(conditions)]
        ratios = predict_density_ratio(self.dre, feats,
                                       labels.to(feats.device))
        return ratios.cpu().numpy()  # the draw's one trip to the host

    def _max_ratio_burn_in(self, c: int) -> float:
        """``M`` of condition ``c``: the largest ratio of a fresh draw.

        ``subsample['burn_in']`` fakes at ``c``, drawn a batch at a time
        (batch ``k`` seeded by ``(seed, MAX_RATIO_STREAM, c, k)``); only
        their largest ratio is kept, and comes to the host once.

        Args:
            c (int): The condition.

        Returns:
            float: The largest ratio (>= 0).
        """
        total = subsample_settings(self.subsample)[0]['burn_in']
        largest = None
        for k, start in enumerate(range(0, total, self.batch_size)):
            size = min(self.batch_size, total - start)
            labels = self.gan_labels[torch.full((size, ), c)]
            feats = self._fake_features(
                labels, seeded(self.seed, MAX_RATIO_STREAM, c, k))
            batch = predict_density_ratio(self.dre, feats,
                                          labels.to(feats.device)).max()
            largest = batch if largest is None else torch.maximum(
                largest, batch)
            self.draws.append(size)
        return float(largest)

    def fit_subsampler(self, real: RealImages) -> None:
        """Fit the cDR-RS density-ratio model (teacher features).

        The real images are read a batch at a time; only their teacher
        features (and, with ``flip``, those of their mirror images) are
        kept, on the teacher's device. Every step of the fit generates its
        fakes at the real batch's labels (noise from ``(seed,
        DRE_STREAM, 1)``).

        Args:
            real (RealImages): The real images and their GAN labels.
        """
        sampler, fit_cfg = subsample_settings(self.subsample)
        real_feats, flipped = self._real_features(real, sampler['flip'])
        fakes = functools.partial(self._fake_features,
                                  rng=seeded(self.seed, DRE_STREAM, 1))
        flips = ' (flipped at random)' if sampler['flip'] else ''
        self.log(f'cDR-RS: fitting the density ratio of {len(real)} real '
                 f'images{flips} against fresh fakes at their labels')
        self.dre = fit_density_ratio(
            real_feats, real.labels, fakes, self._dre_num_classes,
            flipped_feats=flipped, rng=seeded(self.seed, DRE_STREAM),
            log_fn=self.log, **fit_cfg)

    def _real_features(self, real: RealImages, flip: bool
                       ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """The teacher's features of the real images (and their flips).

        They fill tensors allocated at the first batch, on the teacher's
        device: hundreds of small per-batch tensors kept between the
        network's large, freed activations would fragment the heap,
        which then grows with the number of images
        (``benchmarks/cgan_stage_memory.py``).

        Args:
            real (RealImages): The real images.
            flip (bool): Also the features of the images flipped
                horizontally.

        Returns:
            tuple: ``(N, D)`` features, and those of the flips (None
            without ``flip``).
        """
        progress = ProgressLog('cDR-RS: teacher features of real images',
                               len(real), self.log, unit='img',
                               min_interval=10)
        feats = flipped = None
        done = 0
        for images in real.batches(self.batch_size):
            batch = self.teacher(images)[0]
            if feats is None:
                feats = batch.new_empty((len(real), batch.shape[1]))
                flipped = torch.empty_like(feats) if flip else None
            stop = done + len(batch)
            feats[done:stop] = batch
            if flip:
                flipped[done:stop] = self.teacher(images.flip(-1))[0]
            done = stop
            progress.update(done)
        return feats, flipped

    def _dre_file(self) -> str:
        """Where rank 0 saves the model and the other ranks load it."""
        return self.dre_cache or osp.join(self.build_dir, DRE_FILE)

    def _setup_subsampler(self, real: Optional[RealImages]) -> None:
        """Rank 0: load the saved cDR-RS model, or fit and save it."""
        if self.subsample is None:
            return
        path = self._dre_file()
        if osp.isfile(path):
            self._load_dre(path)
            self.log(f'cDR-RS: density-ratio model loaded from {path}')
            return
        if real is None:
            raise ValueError('cDR-RS subsampling needs the real images')
        self.fit_subsampler(real)
        self._save_dre(path)

    def _save_dre(self, path: str) -> None:
        cfg = self.subsample or {}
        arch = dict(feat_dim=self.dre.feat_dim,
                    num_classes=self._dre_num_classes)
        arch.update(
            (k, cfg[k]) for k in ('hidden_dims', 'dropout') if k in cfg)
        atomic_torch_save(dict(arch=arch, state_dict=self.dre.state_dict()),
                          path)

    def _load_dre(self, path: str) -> None:
        """The saved model, onto the teacher's device."""
        device = self.teacher.device
        saved = torch.load(path, map_location=device, weights_only=True)
        arch = dict(saved['arch'])
        model = DensityRatioMLP(arch.pop('feat_dim'), **arch).to(device)
        model.load_state_dict(saved['state_dict'])
        self.dre = model.eval()
