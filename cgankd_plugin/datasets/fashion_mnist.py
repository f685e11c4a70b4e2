# Copyright (c) cgankd_plugin contributors.
"""Fashion-MNIST with a validation split, and its rotated-image regression.

Both read the official IDX files (``make data`` unpacks Debian's
``dataset-fashion-mnist`` into ``data/fashion_mnist``; nothing downloads)
and split them the same way:

- ``'train'``: the first ``60,000 - val_size`` official training images;
- ``'val'``: the last ``val_size`` official training images, for choosing
  settings (never the test images);
- ``'test'``: the 10,000 official test images.
"""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.datasets import FashionMNIST as _OfficialFashionMNIST
from mmpretrain.datasets.mnist import read_image_file, read_label_file

from cgankd_plugin.registry import DATASETS
from .regression_h5 import BaseRegressionDataset

SPLITS = ('train', 'val', 'test')
NUM_OFFICIAL_TRAIN = 60000
IDX_FILES = dict(
    train=('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    test=('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'))


def load_fashion_mnist(data_root: str, split: str,
                       val_size: int) -> Tuple[np.ndarray, np.ndarray]:
    """Images and labels of one split.

    Args:
        data_root (str): Folder of the four uncompressed IDX files.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        val_size (int): Official training images held out as ``'val'``.

    Returns:
        tuple: uint8 images (N, 28, 28) and int64 labels (N,).
    """
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    if not 0 <= val_size < NUM_OFFICIAL_TRAIN:
        raise ValueError(f'val_size must be in [0, {NUM_OFFICIAL_TRAIN}), '
                         f'got {val_size}')
    image_file, label_file = IDX_FILES['test' if split == 'test' else
                                       'train']
    paths = [osp.join(data_root, name) for name in (image_file, label_file)]
    for path in paths:
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'Fashion-MNIST file not found: {path}. Set data_root to '
                'the folder of the uncompressed IDX files (`make data` '
                'unpacks them into data/fashion_mnist).')
    images = read_image_file(paths[0]).numpy()
    labels = read_label_file(paths[1]).numpy()
    if len(images) != len(labels):
        raise ValueError(f'{paths[0]} has {len(images)} images but '
                         f'{paths[1]} has {len(labels)} labels')
    if split == 'train':
        keep = slice(0, len(images) - val_size)
    elif split == 'val':
        keep = slice(len(images) - val_size, len(images))
    else:
        keep = slice(None)
    return images[keep], labels[keep].astype(np.int64)


@DATASETS.register_module()
class FashionMNISTSplit(BaseDataset):
    """Fashion-MNIST classification with a validation split.

    Samples are ``dict(img=<28x28 uint8>, gt_label=<int>)`` as in
    mmpretrain's ``FashionMNIST``, so its pipelines apply unchanged; the
    difference is the ``'val'`` split carved out of the training images
    (see the module docstring).

    Args:
        data_root (str): Folder of the uncompressed IDX files.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
            Defaults to ``'train'``.
        val_size (int): Training images held out as ``'val'``.
            Defaults to 5000.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.
            BaseDataset` (``pipeline``, ``indices``, ``test_mode``, ...).
    """

    METAINFO = _OfficialFashionMNIST.METAINFO

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 val_size: int = 5000,
                 **kwargs) -> None:
        self.split = split
        self.val_size = int(val_size)
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        """One data info per image of the split."""
        images, labels = load_fashion_mnist(self.data_root, self.split,
                                            self.val_size)
        return [
            dict(img=image, gt_label=int(label))
            for image, label in zip(images, labels)
        ]

    def extra_repr(self) -> List[str]:
        """The extra repr information of the dataset."""
        return [f'Split: \t{self.split} (val_size {self.val_size})']


def rotate_image(image: np.ndarray, angle: float) -> np.ndarray:
    """Rotate about the centre, counter-clockwise by ``angle`` degrees.

    Bilinear, same size, uncovered corners black (the images' background).
    """
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2),
                                     angle, 1.0)
    return cv2.warpAffine(
        image,
        matrix, (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0)


@DATASETS.register_module()
class RotatedFashionMNIST(BaseRegressionDataset):
    """Fashion-MNIST images rotated by a random angle; the target is it.

    A scalar image-regression task on real images: each image is rotated
    by an angle drawn uniformly from ``[-max_angle, max_angle]`` degrees
    and ``gt_value`` is that angle. The angles are fixed by ``angle_seed``
    and drawn per official file (training and test images get their own
    draws), so the ``'train'`` / ``'val'`` cut does not change any image's
    angle. Samples are ``dict(img=<28x28 uint8>, gt_value=<float>)``.

    Args:
        data_root (str): Folder of the uncompressed IDX files.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
            Defaults to ``'train'``.
        val_size (int): Training images held out as ``'val'``.
            Defaults to 5000.
        max_angle (float): Largest rotation, in degrees. Defaults to 45.
        angle_seed (int): Seed of the angles. Defaults to 0.
        label_range (Sequence[float], optional): Keep only samples whose
            angle is in this closed range. Defaults to None (all).
        **kwargs: Other arguments of :class:`BaseRegressionDataset`.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 val_size: int = 5000,
                 max_angle: float = 45.0,
                 angle_seed: int = 0,
                 label_range: Optional[Sequence[float]] = None,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        if not 0 < max_angle <= 180:
            raise ValueError(f'max_angle must be in (0, 180], got '
                             f'{max_angle}')
        self.split = split
        self.val_size = int(val_size)
        self.max_angle = float(max_angle)
        self.angle_seed = int(angle_seed)
        metainfo = dict(metainfo or {})
        # the head normalises by the whole possible range of angles
        metainfo.setdefault('normalization_range',
                            (-self.max_angle, self.max_angle))
        super().__init__(
            ann_file='',
            data_root=data_root,
            label_range=label_range,
            metainfo=metainfo,
            **kwargs)

    def angles(self, num_official: int) -> np.ndarray:
        """The angles of all images of the split's official file."""
        file_id = 1 if self.split == 'test' else 0
        rng = np.random.default_rng([self.angle_seed, file_id])
        return rng.uniform(-self.max_angle, self.max_angle, num_official)

    def load_data_list(self) -> List[dict]:
        """Rotate every image of the split by its angle."""
        images, _ = load_fashion_mnist(self.data_root, self.split,
                                       self.val_size)
        num_official = (
            len(images) if self.split == 'test' else NUM_OFFICIAL_TRAIN)
        angles = self.angles(num_official)
        if self.split == 'val':
            angles = angles[NUM_OFFICIAL_TRAIN - self.val_size:]
        keep = self.in_label_range(angles[:len(images)])
        return [
            dict(img=rotate_image(image, float(angle)),
                 gt_value=float(angle))
            for image, angle, kept in zip(images, angles, keep) if kept
        ]

    def extra_repr(self) -> List[str]:
        """The extra repr information of the dataset."""
        return super().extra_repr() + [
            f'Split: \t{self.split} (val_size {self.val_size})',
            f'Angles: \tuniform in +-{self.max_angle} deg, seed '
            f'{self.angle_seed}'
        ]
