# Copyright (c) cgankd_plugin contributors.
"""cDR-RS in a bank build: the density-ratio model and each draw's ratios.

Rank 0 fits the model on the teacher's features of real images and of
fakes generated at their labels, or loads it from where it saves it:
``dre_cache`` (fitted by an earlier build with the same generator, teacher
and data) if given, else ``dre.pth`` in the build folder (a resumed
build). After a barrier the other ranks load that file, so every rank
rejects with the same model.
"""
import os.path as osp
from typing import Iterable, Optional

import numpy as np
import torch

from ...structures import RealImages
from ...utils.atomic_io import atomic_torch_save
from ...utils.progress import ProgressLog
from ..bank import hash_settings
from ..density_ratio import (DensityRatioMLP, fit_density_ratio,
                             predict_density_ratio)
from .rng import DRE_STREAM, seeded, to_uint8

DRE_FILE = 'dre.pth'


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
        subsample (dict): The cDR-RS settings.
        seed (int): The build's seed.
        batch_size (int): The build's batch size (its draws' sizes).

    Returns:
        str: ``<cache_dir>/dre_<key>.pth``.
    """
    key = hash_settings(
        dict(
            version=1,
            generator=generator_hash,
            filter_net=filter_hash,
            teacher_view=teacher_view,
            real_data=real.digest(batch_size),
            subsample=subsample,
            seed=seed,
            bank_batch_size=batch_size))
    return osp.join(cache_dir, f'dre_{key[:20]}.pth')


class SubsamplingMixin:
    """The cDR-RS part of :class:`BaseBankBuilder`.

    It reads the builder's ``gan``, ``teacher``, ``gan_labels``,
    ``is_regression``, ``num_conditions``, ``subsample``, ``batch_size``,
    ``seed``, ``log``, ``dre_cache`` and ``build_dir``, and sets ``dre``
    (None: cDR-RS off). The task supplies :meth:`_dre_fake_labels`.
    """

    @property
    def _dre_num_classes(self) -> Optional[int]:
        """The classes cDR-RS conditions on (None: a continuous label)."""
        return None if self.is_regression else self.num_conditions

    def _dre_fake_labels(self, real_labels: torch.Tensor, num_train: int,
                         rng: torch.Generator) -> torch.Tensor:
        """The labels of the fakes cDR-RS is fitted on."""
        raise NotImplementedError

    def _ratios(self, feats: torch.Tensor,
                conditions: np.ndarray) -> np.ndarray:
        """The density ratio of each candidate (its teacher features)."""
        labels = self.gan_labels[torch.as_tensor(conditions)]
        return np.asarray(
            predict_density_ratio(self.dre, feats, labels.to(feats.device)))

    def fit_subsampler(self, real: RealImages) -> None:
        """Fit the cDR-RS density-ratio model (teacher features).

        The real images are read a batch at a time; only their teacher
        features are kept. The fakes are generated at the real labels,
        ``num_fake_train`` of them (default: as many as real images), as
        the subclass pairs them (:meth:`_dre_fake_labels`).

        Args:
            real (RealImages): The real images and their GAN labels.
        """
        cfg = dict(self.subsample or {})
        num_train = int(cfg.pop('num_fake_train', len(real)))
        real_feats = self._features(
            real.batches(self.batch_size), len(real),
            'cDR-RS: teacher features of real images')
        real_labels = real.labels
        rng = seeded(self.seed, DRE_STREAM)
        fake_labels = self._dre_fake_labels(real_labels, num_train, rng)
        num_train = len(fake_labels)

        def fakes():
            for i in range(0, num_train, self.batch_size):
                labels = fake_labels[i:i + self.batch_size].to(
                    self.gan_labels.device)
                yield to_uint8(self.gan.sample(labels, rng=rng)).cpu()

        fake_feats = self._features(fakes(), num_train,
                                    'cDR-RS: teacher features of fakes')
        self.log(f'cDR-RS: fitting the density ratio on {len(real_feats)} '
                 f'real and {num_train} fake feature vectors')
        self.dre = fit_density_ratio(
            real_feats, real_labels, fake_feats, fake_labels,
            self._dre_num_classes, rng=rng, log_fn=self.log, **cfg)

    def _features(self, batches: Iterable[torch.Tensor], total: int,
                  what: str) -> torch.Tensor:
        """The teacher's features of ``total`` images, batch by batch.

        They fill one tensor allocated at the first batch: hundreds of
        small per-batch tensors kept between the network's large, freed
        activations would fragment the heap, which then grows with the
        number of images (``benchmarks/cgan_stage_memory.py``).

        Args:
            batches (Iterable[torch.Tensor]): uint8 image batches.
            total (int): Images in all.
            what (str): The progress lines' label.

        Returns:
            torch.Tensor: ``(total, D)`` features on the CPU.
        """
        progress = ProgressLog(what, total, self.log, unit='img',
                               min_interval=10)
        feats, done = None, 0
        for images in batches:
            batch = self.teacher(images)[0]
            if feats is None:
                feats = torch.empty((total, batch.shape[1]),
                                    dtype=batch.dtype)
            feats[done:done + len(batch)] = batch.cpu()
            done += len(batch)
            progress.update(done)
        return feats

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
        saved = torch.load(path, map_location='cpu', weights_only=True)
        arch = dict(saved['arch'])
        model = DensityRatioMLP(arch.pop('feat_dim'), **arch)
        model.load_state_dict(saved['state_dict'])
        self.dre = model.eval()
