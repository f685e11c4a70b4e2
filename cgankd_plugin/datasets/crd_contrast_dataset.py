# Copyright (c) cgankd_plugin contributors.
"""mmrazor's ``CRDDataset``: fast negatives, class imbalance allowed."""
import os
from typing import Dict, Optional

import numpy as np
from mmrazor.datasets import CRDDataset

from ..registry import DATASETS


@DATASETS.register_module()
class CRDContrastDataset(CRDDataset):
    """``CRDDataset`` that draws its negatives fast and allows imbalance.

    What each sample gets is mmrazor's: ``contrast_sample_idxs`` holds the
    positive at index 0 (the sample itself in ``'exact'`` mode, a uniformly
    drawn sample of its class in ``'random'`` mode, RepDistiller's
    ``'relax'``) and then ``neg_num`` negatives drawn uniformly without
    replacement from the samples of the other classes (with replacement when
    there are fewer than ``neg_num``). With ``0 < percent < 1`` each class
    keeps a random ``percent`` share of its negatives, fixed at
    initialisation, and draws from those.

    How it differs from mmrazor's:

    * Index lists may differ in length per class (mmrazor's ``np.asarray``
      of ragged lists fails on numpy >= 1.24: any real + synthetic mix).
    * Memory: the samples sorted by class, twice in a row (``2 N``
      indices, int32 below 2**31 samples), hold every class's negatives as
      one slice: from the end of its block, ``N - n_c`` long. mmrazor keeps
      ``C`` int64 arrays of ``N - n_c`` indices (120 MB at 100 classes and
      150k samples). Only ``0 < percent < 1`` stores per-class lists
      (``percent`` of that, in int32).
    * Speed: ``neg_num`` distinct positions in a class's slice come from
      ``numpy.random.Generator.choice`` (a partial Fisher-Yates shuffle)
      instead of the legacy ``np.random.choice(..., replace=False)``, which
      permutes all ``N - n_c`` candidates for every sample. They are a
      uniform subset, not shuffled again: CRD's loss does not depend on the
      order of the negatives.
    * Randomness: each process (the main one, each loader worker) uses its
      own ``numpy.random.Generator``, seeded at its first draw by four
      numbers drawn from the global ``np.random``. Runs are reproducible
      wherever mmrazor's are: torch seeds ``np.random`` in each loader
      worker from the loader's base seed and the worker id, and MMEngine's
      ``worker_init_fn`` then seeds it from its seed, rank and worker id.

    Args:
        dataset (BaseDataset | dict): The dataset to wrap.
        neg_num (int): Negatives per sample.
        percent (float): Share of each class's negatives kept, used when
            ``0 < percent < 1``; otherwise all are used.
        lazy_init (bool): Defer loading the annotations. Defaults to False.
        num_classes (int, optional): Number of classes; the largest label
            plus one when None.
        sample_mode (str): ``'exact'`` or ``'random'``. Defaults to
            ``'exact'``.
    """

    def _parse_fullset_contrast_info(self) -> None:
        """Sort the samples by class and keep the class offsets."""
        if self.sample_mode not in ('exact', 'random'):
            raise ValueError("CRDContrastDataset: sample_mode must be "
                             f"'exact' or 'random', got {self.sample_mode!r}")
        self._rng: Optional[np.random.Generator] = None
        self._rng_pid: Optional[int] = None
        if self.dataset.test_mode:
            return
        labels = np.asarray(self.dataset.get_gt_labels(), dtype=np.int64)
        num_classes = self.num_classes
        if num_classes is None:
            num_classes = int(labels.max()) + 1
        if labels.min() < 0 or labels.max() >= num_classes:
            raise ValueError(
                f'CRDContrastDataset: labels must lie in [0, {num_classes})'
                f', found [{labels.min()}, {labels.max()}]; check '
                '`num_classes`.')
        self.gt_labels = labels
        self.num_samples = len(labels)
        # samples grouped by class, each class in index order (the order
        # of mmrazor's lists, so `percent` keeps the same subsets)
        self._by_class = np.argsort(labels, kind='stable')
        self._class_sizes = np.bincount(labels, minlength=num_classes)
        self._class_starts = np.concatenate(
            ([0], np.cumsum(self._class_sizes)))
        self.cls_positive = [
            self._by_class[self._class_starts[c]:self._class_starts[c + 1]]
            for c in range(num_classes)
        ]
        if 0 < self.percent < 1:
            self._restrict_negatives()
        else:
            dtype = np.int32 if self.num_samples < 2**31 else np.int64
            self._pool = np.tile(self._by_class.astype(dtype), 2)
            self._pool_starts = self._class_starts[1:]
            self._pool_sizes = self.num_samples - self._class_sizes
        starved = (self._class_sizes > 0) & (self._pool_sizes == 0)
        if starved.any():
            raise ValueError(
                'CRDContrastDataset: no negatives for classes '
                f'{np.flatnonzero(starved).tolist()} (a single class, or '
                f'`percent`={self.percent} keeps none).')

    def _restrict_negatives(self) -> None:
        """Keep a random ``percent`` share of each class's negatives.

        The shares are drawn from the global ``np.random`` as mmrazor does
        (on balanced data with the same seed they are mmrazor's lists); each
        class keeps ``int(percent * (N - n_c))`` of its own negatives.
        """
        dtype = np.int32 if self.num_samples < 2**31 else np.int64
        keep = ((self.num_samples - self._class_sizes) *
                self.percent).astype(np.int64)
        pools = []
        for c, stop in enumerate(self._class_starts[1:]):
            start = self._class_starts[c]
            # the other classes in class order, as mmrazor lists them
            negatives = np.concatenate(
                (self._by_class[:start], self._by_class[stop:]))
            pools.append(np.random.permutation(negatives)[:keep[c]])
        self._pool = np.concatenate(pools).astype(dtype)
        self._pool_starts = np.concatenate(([0], np.cumsum(keep)[:-1]))
        self._pool_sizes = keep

    def negatives_of(self, cls: int) -> np.ndarray:
        """The samples class ``cls`` draws its negatives from.

        Args:
            cls (int): A class.

        Returns:
            np.ndarray: Their indices (int64; a new array, for inspection).
        """
        start = self._pool_starts[cls]
        return self._pool[start:start + self._pool_sizes[cls]].astype(
            np.int64)

    def _generator(self) -> np.random.Generator:
        """This process's generator, created at its first draw."""
        pid = os.getpid()
        if self._rng is None or self._rng_pid != pid:
            # a generator inherited from the parent process would repeat
            # its draws in every worker: a new one per process
            entropy = np.random.randint(0, 2**32, size=4).tolist()
            self._rng = np.random.default_rng(entropy)
            self._rng_pid = pid
        return self._rng

    def _get_contrast_info(self, data: Dict, idx: int) -> Dict:
        """Add ``contrast_sample_idxs``: the positive, then the negatives.

        Args:
            data (dict): The data info of sample ``idx``.
            idx (int): The sample's index.

        Returns:
            dict: ``data`` with ``contrast_sample_idxs`` (length ``neg_num +
            1``; int32 below 2**31 samples, half the bytes a loader worker
            sends).
        """
        rng = self._generator()
        cls = self.gt_labels[idx]
        out = np.empty(self.neg_num + 1, dtype=self._pool.dtype)
        if self.sample_mode == 'exact':
            out[0] = idx
        else:
            out[0] = self._by_class[self._class_starts[cls] +
                                    rng.integers(self._class_sizes[cls])]
        size = self._pool_sizes[cls]
        if self.neg_num > size:
            pos = rng.integers(size, size=self.neg_num)
        else:
            pos = rng.choice(size, self.neg_num, replace=False,
                             shuffle=False)
        pos += self._pool_starts[cls]
        out[1:] = self._pool[pos]
        data['contrast_sample_idxs'] = out
        return data
