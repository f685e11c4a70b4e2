# Copyright (c) cgankd_plugin contributors.
"""A sampler that fixes the share of fake samples in a real + fake set."""
import math
from typing import Iterator, Optional, Sized

import torch
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from ...registry import DATA_SAMPLERS
from ..dataset_tree import find_dataset


def _find_real_fake_dataset(dataset: Sized) -> Sized:
    """The first of ``dataset``, ``dataset.dataset``, ... with ``num_real``.

    Args:
        dataset (Sized): A ``SyntheticMixDataset`` or a wrapper of one (such
            as ``CRDContrastDataset``) that keeps the indices unchanged.

    Returns:
        Sized: The dataset that has ``num_real`` and ``num_fake``.

    Raises:
        TypeError: If there is none, or a wrapper changes the length (so
            its indices are not those of the wrapped dataset).
    """
    mix = find_dataset(
        dataset, lambda d: hasattr(d, 'num_real') and hasattr(d, 'num_fake'))
    if mix is None:
        raise TypeError(
            'RealFakeRatioSampler.dataset must be a SyntheticMixDataset (or '
            'a wrapper of one, through `.dataset`) with `num_real` and '
            f'`num_fake`, got {type(dataset).__name__}')
    if len(mix) != len(dataset):
        raise TypeError(
            'RealFakeRatioSampler.dataset: the wrapper '
            f'{type(dataset).__name__} has length {len(dataset)} but the '
            f'{type(mix).__name__} it wraps has {len(mix)}; the sampler '
            'needs a wrapper that keeps the indices of the wrapped dataset.')
    return mix


def _draw(pool_size: int, num: int,
          generator: torch.Generator) -> torch.Tensor:
    """``num`` indices of ``range(pool_size)``, without replacement if it can.

    Concatenates fresh random permutations of the pool until there are
    enough, so no index repeats before every index of the pool has come.

    Args:
        pool_size (int): Size of the pool.
        num (int): Number of indices to draw.
        generator (torch.Generator): The random source.

    Returns:
        torch.Tensor: ``num`` int64 indices.
    """
    if num == 0:
        return torch.zeros(0, dtype=torch.int64)
    perms = [
        torch.randperm(pool_size, generator=generator)
        for _ in range(math.ceil(num / pool_size))
    ]
    return torch.cat(perms)[:num]


class _FreshStream:
    """An endless stream of permutations of a pool, read a slice an epoch.

    Cycle ``c`` of the stream is a permutation of ``range(pool_size)``
    seeded by ``seed`` and ``c``, except that the indices the current
    slice already took from cycle ``c - 1`` are moved to its end: a slice
    (``slice_size`` <= ``pool_size``) never repeats an index, consecutive
    slices repeat none until every index has come, and every index comes
    once a cycle. Cycles are built in order; those behind the last slice
    read are dropped (a slice of an earlier epoch builds them again).

    Args:
        pool_size (int): Size of the pool.
        slice_size (int): Items a slice (an epoch) takes, at most
            ``pool_size``.
        seed (int): Seed of the stream.
    """

    def __init__(self, pool_size: int, slice_size: int, seed: int) -> None:
        self.pool_size = pool_size
        self.slice_size = slice_size
        self.seed = seed
        self.cycles = {}  # cycle number -> permutation
        self.built = 0  # cycles built so far

    def _cycle(self, c: int) -> torch.Tensor:
        if c not in self.cycles and c < self.built:  # dropped: start over
            self.cycles, self.built = {}, 0
        while self.built <= c:
            n = self.built
            g = torch.Generator()
            # another draw than the epochs' (seed + epoch) generators
            g.manual_seed((self.seed * 1_000_003 + n) % 2**63 + 1)
            perm = torch.randperm(self.pool_size, generator=g)
            taken = (n * self.pool_size) % self.slice_size
            if n and taken:  # a slice began in the previous cycle
                seen = torch.zeros(self.pool_size, dtype=torch.bool)
                seen[self.cycles[n - 1][-taken:]] = True
                perm = torch.cat([perm[~seen[perm]], perm[seen[perm]]])
            self.cycles[n] = perm
            self.built += 1
        return self.cycles[c]

    def take(self, index: int) -> torch.Tensor:
        """Slice ``index`` of the stream (int64 indices)."""
        begin = index * self.slice_size
        end = begin + self.slice_size
        if self.slice_size == 0:
            return torch.zeros(0, dtype=torch.int64)
        first, last = begin // self.pool_size, (end - 1) // self.pool_size
        stream = torch.cat([self._cycle(c) for c in range(first, last + 1)])
        for old in [c for c in self.cycles if c < first]:
            del self.cycles[old]
        offset = begin - first * self.pool_size
        return stream[offset:offset + self.slice_size]


@DATA_SAMPLERS.register_module()
class RealFakeRatioSampler(Sampler):
    """Draws each epoch a set share of fake samples from a real + fake set.

    For ``SyntheticMixDataset`` (real samples ``0..num_real-1``, then
    ``num_fake`` fake ones), possibly wrapped, e.g. by
    ``CRDContrastDataset``: wrappers are looked through along ``.dataset``
    until one has ``num_real`` and ``num_fake``, and must keep its indices.

    Each epoch draws ``round(n * fake_fraction)`` fake indices and the rest
    real ones, where ``n = num_samples_per_epoch``. The real pool is drawn
    anew each epoch, without replacement while it is large enough and
    through reshuffled permutations of itself when more is asked than it
    holds. The fake pool, when an epoch takes at most all of it, is walked
    across epochs: epoch ``e`` takes the next slice of one seeded stream
    of permutations of the pool, so a bank larger than the fakes a whole
    run draws shows no fake twice (fresh fakes), and a smaller one shows
    each equally often. The two draws are then shuffled together. The
    order depends only on ``seed`` and the
    epoch (:meth:`set_epoch`); ranks split it as MMEngine's
    ``DefaultSampler`` does (``mmengine/dataset/sampler.py``, on which this
    sampler is modelled, ``round_up`` included).

    ``fake_fraction=None`` samples uniformly over the concatenated set: with
    the default ``num_samples_per_epoch`` the order is exactly that of
    ``DefaultSampler(shuffle=True)`` with the same seed. That is the
    official cGAN-KD protocol (Ding et al., the student is trained on the
    union of the real and the processed fake samples).

    The indices yielded are the dataset's own global indices, so each
    sample's ``sample_idx`` (the index of CRD's memory bank, sized by
    ``len(dataset)``) stays right whatever the mix.

    Args:
        dataset (Sized): The ``SyntheticMixDataset`` or a wrapper of it.
        fake_fraction (float, optional): Expected share of fake samples per
            epoch, in ``[0, 1)``. None: uniform over real + fake. Defaults to
            None.
        num_samples_per_epoch (int, optional): Samples per epoch over all
            ranks. None: ``len(dataset)`` (or ``real_set_multiple`` real
            sets), so epoch-based schedules and ``max_iters`` derived from
            the dataset length are unchanged. Defaults to None.
        real_set_multiple (float, optional): Instead of
            ``num_samples_per_epoch``: an epoch as long as this many real
            sets, ``round(real_set_multiple * num_real)`` samples, so it
            follows the real set's size (a real-only control repeating its
            real set that many times takes the same steps). Defaults to
            None.
        seed (int, optional): Random seed, identical across all processes
            of the distributed group. None: a seed synchronised across ranks
            by ``sync_random_seed``. Defaults to None.
        round_up (bool): Whether to add extra samples to make the number of
            samples evenly divisible by the world size. Defaults to True.
    """

    def __init__(self,
                 dataset: Sized,
                 fake_fraction: Optional[float] = None,
                 num_samples_per_epoch: Optional[int] = None,
                 seed: Optional[int] = None,
                 round_up: bool = True,
                 real_set_multiple: Optional[float] = None) -> None:
        mix = _find_real_fake_dataset(dataset)
        num_real, num_fake = int(mix.num_real), int(mix.num_fake)
        if real_set_multiple is not None:
            if num_samples_per_epoch is not None:
                raise ValueError(
                    'RealFakeRatioSampler: give num_samples_per_epoch or '
                    'real_set_multiple, not both')
            if not float(real_set_multiple) > 0:
                raise ValueError(
                    'RealFakeRatioSampler.real_set_multiple must be '
                    f'positive, got {real_set_multiple!r}')
            num_samples_per_epoch = max(
                1, round(float(real_set_multiple) * num_real))
        if num_samples_per_epoch is None:
            num_samples_per_epoch = len(dataset)
        if (isinstance(num_samples_per_epoch, bool)
                or not isinstance(num_samples_per_epoch, int)
                or num_samples_per_epoch < 1):
            raise ValueError(
                'RealFakeRatioSampler.num_samples_per_epoch must be a '
                f'positive int or None, got {num_samples_per_epoch!r}')
        if fake_fraction is None:
            num_fake_per_epoch = None
        else:
            fake_fraction = float(fake_fraction)
            if not 0.0 <= fake_fraction < 1.0:
                raise ValueError(
                    'RealFakeRatioSampler.fake_fraction must lie in '
                    f'[0, 1) or be None, got {fake_fraction}')
            if fake_fraction > 0 and num_fake == 0:
                raise ValueError(
                    f'RealFakeRatioSampler.fake_fraction is {fake_fraction}'
                    ' but the dataset holds no fake samples (num_fake=0)')
            num_fake_per_epoch = round(num_samples_per_epoch * fake_fraction)
            if num_fake_per_epoch < num_samples_per_epoch and num_real == 0:
                raise ValueError(
                    'RealFakeRatioSampler.dataset holds no real samples '
                    f'(num_real=0), but fake_fraction={fake_fraction} asks '
                    'for some')

        rank, world_size = get_dist_info()
        self.rank = rank
        self.world_size = world_size

        self.dataset = dataset
        self.num_real = num_real
        self.num_fake = num_fake
        self.fake_fraction = fake_fraction
        self.num_samples_per_epoch = num_samples_per_epoch
        #: fake indices per epoch over all ranks, before ``round_up``
        #: (None when ``fake_fraction`` is None)
        self.num_fake_per_epoch = num_fake_per_epoch
        if seed is None:
            seed = sync_random_seed()
        self.seed = seed
        self.epoch = 0
        self.round_up = round_up
        self._fakes = _FreshStream(num_fake, num_fake_per_epoch or 0, seed)

        total = num_samples_per_epoch
        if self.round_up:
            self.num_samples = math.ceil(total / world_size)
            self.total_size = self.num_samples * self.world_size
        else:
            self.num_samples = math.ceil((total - rank) / world_size)
            self.total_size = total

    def epoch_indices(self) -> torch.Tensor:
        """The indices of the current epoch over all ranks, unpadded.

        Returns:
            torch.Tensor: ``num_samples_per_epoch`` global dataset indices.
        """
        g = torch.Generator()
        g.manual_seed(self.seed + self.epoch)
        n = self.num_samples_per_epoch
        if self.num_fake_per_epoch is None:
            # as DefaultSampler when n == len(dataset)
            return _draw(self.num_real + self.num_fake, n, g)
        num_fake = self.num_fake_per_epoch
        real = _draw(self.num_real, n - num_fake, g)
        if num_fake > self.num_fake:  # all of the pool each epoch anyway
            fake = _draw(self.num_fake, num_fake, g) + self.num_real
        else:
            fake = self._fakes.take(self.epoch) + self.num_real
        both = torch.cat([real, fake])
        return both[torch.randperm(n, generator=g)]

    def __iter__(self) -> Iterator[int]:
        """Iterate the indices of this rank."""
        indices = self.epoch_indices().tolist()

        # add extra samples to make it evenly divisible (as DefaultSampler)
        if self.round_up:
            indices = (
                indices *
                int(self.total_size / len(indices) + 1))[:self.total_size]

        # subsample
        indices = indices[self.rank:self.total_size:self.world_size]

        return iter(indices)

    def __len__(self) -> int:
        """The number of samples in this rank."""
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch, so each epoch draws and orders anew.

        Args:
            epoch (int): Epoch number.
        """
        self.epoch = epoch
