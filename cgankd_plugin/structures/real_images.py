# Copyright (c) cgankd_plugin contributors.
"""The real training set as the cGAN stage reads it: uint8 images by index.

The stage (the hook's cGAN trainer, cDR-RS and the quality figure) reads
real images a batch at a time, by index, and keeps only the labels of the
whole set; :class:`DatasetImages` decodes each batch from the dataset when
it is asked for, so the stage's memory does not grow with the set.
:class:`TensorImages` is the same interface over tensors already in
memory (tests, :class:`~cgankd_plugin.models.generators.RealImagePool`).
"""
import hashlib
from typing import Callable, Iterator, Sequence, Union

import mmcv
import numpy as np
import torch

Indices = Union[torch.Tensor, Sequence[int], range]


def image_of(info: dict) -> np.ndarray:
    """The image of a raw sample, ``(H, W, C)`` as the dataset stores it.

    Args:
        info (dict): A sample as ``get_data_info`` returns it, with ``img``
            or ``img_path``.

    Returns:
        np.ndarray: The image (BGR when read from a file, as mmcv's
        ``LoadImageFromFile`` reads it).
    """
    image = info.get('img')
    if image is None:
        if 'img_path' not in info:
            raise KeyError('a real sample has neither `img` nor `img_path`')
        image = mmcv.imread(info['img_path'])
        if image is None:
            raise FileNotFoundError(
                f'the real image {info["img_path"]!r} does not read')
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    return image


class RealImages:
    """Real images, square and uint8, read by index, with their labels.

    Subclasses supply :meth:`read`, ``labels``, ``channels`` and
    ``img_size``.
    """

    labels: torch.Tensor
    channels: int
    img_size: int

    def __len__(self) -> int:
        return len(self.labels)

    def read(self, indices: Indices) -> torch.Tensor:
        """The images at ``indices``.

        Args:
            indices (torch.Tensor | Sequence[int]): Positions in the set.

        Returns:
            torch.Tensor: uint8 ``(len(indices), C, S, S)`` on the CPU.
        """
        raise NotImplementedError

    def batches(self, batch_size: int) -> Iterator[torch.Tensor]:
        """The whole set in order, ``batch_size`` images at a time.

        Args:
            batch_size (int): Images per batch (the last may be fewer).

        Yields:
            torch.Tensor: uint8 ``(B, C, S, S)`` batches.
        """
        for start in range(0, len(self), batch_size):
            yield self.read(range(start, min(start + batch_size, len(self))))

    def digest(self, batch_size: int = 256) -> str:
        """SHA-256 of every image's bytes, in order, then of the labels.

        Read batch by batch; the same images and labels give the same
        digest whichever subclass holds them.

        Args:
            batch_size (int): Images read at a time.

        Returns:
            str: The hex digest.
        """
        digest = hashlib.sha256()
        for images in self.batches(batch_size):
            digest.update(images.contiguous().numpy().tobytes())
        digest.update(self.labels.contiguous().numpy().tobytes())
        return digest.hexdigest()


class TensorImages(RealImages):
    """:class:`RealImages` over a uint8 tensor already in memory.

    Args:
        images (torch.Tensor): uint8 ``(N, C, S, S)`` images.
        labels (torch.Tensor): ``(N,)`` their labels.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        if images.dtype != torch.uint8:
            raise TypeError('real images must be uint8 in [0, 255], got '
                            f'{images.dtype}')
        if images.dim() != 4 or images.size(2) != images.size(3):
            raise ValueError('real images must be square, shaped (N, C, H, '
                             f'W); got {tuple(images.shape)}')
        labels = torch.as_tensor(labels)
        if labels.dim() != 1 or labels.numel() != images.size(0):
            raise ValueError(f'expected {images.size(0)} labels shaped (N,)'
                             f', got shape {tuple(labels.shape)}')
        self.images = images
        self.labels = labels.cpu()
        self.channels = int(images.size(1))
        self.img_size = int(images.size(2))

    def read(self, indices: Indices) -> torch.Tensor:
        index = torch.as_tensor(indices, dtype=torch.long)
        return self.images[index.to(self.images.device)].cpu()


class DatasetImages(RealImages):
    """:class:`RealImages` decoded from a dataset when they are read.

    Only the labels of the whole set are kept (read once, from the raw
    samples); each :meth:`read` decodes its images from the dataset's raw
    samples (``get_data_info``) and resizes them to ``img_size``, keeping
    the channel order the dataset gives (what the student's pipeline sees).

    Args:
        dataset (BaseDataset): The real set (``get_data_info(i)``).
        img_size (int): The side the images are resized to (the cGAN's).
        target (Callable[[dict], float]): Reads the label of a raw sample.
        label_dtype (torch.dtype): The labels' dtype (``torch.long`` for
            classes, ``torch.float32`` for normalised continuous labels).
    """

    def __init__(self,
                 dataset,
                 img_size: int,
                 target: Callable[[dict], float],
                 label_dtype: torch.dtype = torch.long) -> None:
        if len(dataset) == 0:
            raise ValueError('the real training set is empty')
        self.dataset = dataset
        self.img_size = int(img_size)
        self.labels = torch.as_tensor(
            np.asarray([target(dataset.get_data_info(i))
                        for i in range(len(dataset))]),
            dtype=label_dtype)
        self.channels = int(self._decode(0).shape[0])

    def _decode(self, index: int) -> np.ndarray:
        image = image_of(self.dataset.get_data_info(int(index)))
        size = self.img_size
        if image.shape[:2] != (size, size):
            image = mmcv.imresize(image, (size, size))
            if image.ndim == 2:
                image = image[..., None]
        return np.ascontiguousarray(image.transpose(2, 0, 1))

    def read(self, indices: Indices) -> torch.Tensor:
        if isinstance(indices, torch.Tensor):
            indices = indices.reshape(-1).tolist()
        out = torch.empty((len(indices), self.channels, self.img_size,
                           self.img_size),
                          dtype=torch.uint8)
        for row, index in enumerate(indices):
            image = self._decode(index)
            if image.shape[0] != self.channels:
                raise ValueError(
                    f'real image {index} has {image.shape[0]} channels, '
                    f'the first has {self.channels}')
            out[row] = torch.from_numpy(image)
        return out
