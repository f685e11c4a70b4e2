# Copyright (c) cgankd_plugin contributors.
"""Real images in a cGAN's place: the upper bound of cGAN-KD."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule

from ...registry import DATASETS, MODELS
from ...structures import DatasetImages


@MODELS.register_module()
class RealImagePool(BaseModule):
    """Draws real training images of a condition, as a perfect cGAN would.

    Put in ``CGANHook.gan``, it makes a bank of real images the student
    does not train on, filtered and relabelled by the teacher exactly like
    generated ones: how much better cGAN-KD would be with a perfect cGAN.
    Nothing is trained (``trainable`` is False).

    For a class, an image is drawn uniformly from the pool's images of that
    class; for a continuous label, from the ``neighbours`` images whose
    labels are nearest to it. Draws are with replacement and come from the
    ``rng`` the bank builder passes, so a build is as reproducible as with
    a cGAN.

    Args:
        dataset (dict): The real set the pool draws from (e.g. the
            teacher's training set).
        exclude_first (int): Leave out its first samples (those the
            student trains on). Defaults to 0.
        img_size (int): Side of the images handed out (the bank's).
        img_channels (int): Their channels.
        num_classes (int, optional): Classes of a classification pool; None
            for a continuous label.
        label_range (Sequence[float], optional): Regression: the (low,
            high) range labels are normalised by, as the hook does for a
            CcGAN; defaults to the dataset's ``normalization_range``.
        neighbours (int): Regression: images per label to draw among.
    """

    trainable = False

    def __init__(self,
                 dataset: dict,
                 exclude_first: int = 0,
                 img_size: int = 32,
                 img_channels: int = 3,
                 num_classes: Optional[int] = None,
                 label_range: Optional[Sequence[float]] = None,
                 neighbours: int = 20,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        self.img_size = int(img_size)
        self.img_channels = int(img_channels)
        self.num_classes = num_classes
        self.is_continuous = num_classes is None
        self.neighbours = int(neighbours)
        real = DATASETS.build(dataset)
        if self.is_continuous:
            rng = label_range or real.metainfo.get('normalization_range')
            if rng is None:
                raise ValueError('RealImagePool.label_range is needed for '
                                 'a dataset without normalization_range')
            lo, hi = float(rng[0]), float(rng[1])

            def target(info):
                return (info['gt_value'] - lo) / (hi - lo)
        else:

            def target(info):
                return info['gt_label']

        # the pool is what this control is: it holds its images
        pool = DatasetImages(
            _Skip(real, int(exclude_first)), self.img_size, target,
            torch.float32 if self.is_continuous else torch.long)
        if pool.channels != self.img_channels:
            raise ValueError(
                f'RealImagePool.img_channels is {self.img_channels} but the '
                f'dataset gives {pool.channels}-channel images')
        order = torch.argsort(pool.labels, stable=True)
        self.register_buffer('images', pool.read(order))
        self.register_buffer('labels', pool.labels[order])
        if not self.is_continuous:
            counts = torch.bincount(self.labels, minlength=num_classes)
            if (counts == 0).any():
                missing = torch.nonzero(counts == 0).flatten().tolist()
                raise ValueError(f'RealImagePool: no image of classes '
                                 f'{missing} after exclude_first')
            self._starts = torch.cumsum(counts, 0) - counts
            self._counts = counts

    @property
    def device(self) -> torch.device:
        return self.images.device

    @torch.no_grad()
    def sample(self,
               labels: torch.Tensor,
               noise: Optional[torch.Tensor] = None,
               rng: Optional[torch.Generator] = None,
               use_ema: bool = True) -> torch.Tensor:
        """One real image per label, as float images in [-1, 1].

        Args:
            labels (torch.Tensor): (M,) class indices or normalised labels.
            noise (torch.Tensor, optional): Unused (a cGAN's argument).
            rng (torch.Generator, optional): CPU generator of the draw.
            use_ema (bool): Unused (a cGAN's argument).

        Returns:
            torch.Tensor: (M, C, S, S) images on the pool's device.
        """
        labels = labels.reshape(-1).cpu()
        u = torch.rand(labels.numel(), generator=rng, dtype=torch.float64)
        if self.is_continuous:
            pool = self.labels.cpu()
            k = min(self.neighbours, len(pool))
            centre = torch.searchsorted(pool, labels.float().contiguous())
            start = (centre - k // 2).clamp(0, len(pool) - k)
            index = start + (u * k).long().clamp_(max=k - 1)
        else:
            labels = labels.long()
            counts = self._counts[labels]
            index = self._starts[labels] + (u * counts).long().minimum(
                counts - 1)
        images = self.images[index.to(self.device)].float()
        return images / 127.5 - 1.0


class _Skip:
    """A dataset's samples from ``start`` on (``get_data_info`` only)."""

    def __init__(self, dataset, start: int) -> None:
        if not 0 <= start < len(dataset):
            raise ValueError(f'RealImagePool.exclude_first={start} leaves '
                             f'nothing of a set of {len(dataset)}')
        self.dataset = dataset
        self.start = start

    def __len__(self) -> int:
        return len(self.dataset) - self.start

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(self.start + idx)
