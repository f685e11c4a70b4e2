# Copyright (c) cgankd_plugin contributors.
"""The real training set as one uint8 tensor, for the cGAN and cDR-RS."""
from typing import Callable, Optional, Tuple

import mmcv
import numpy as np
import torch
from mmengine.utils import ProgressBar


def image_of(info: dict) -> np.ndarray:
    image = info.get('img')
    if image is None:
        if 'img_path' not in info:
            raise KeyError('a real sample has neither `img` nor `img_path`')
        # the same channel order as mmcv's LoadImageFromFile (BGR)
        image = mmcv.imread(info['img_path'])
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    return image


def load_real_images(dataset,
                     img_size: int,
                     target: Callable[[dict], float],
                     show_progress: bool = True
                     ) -> Tuple[torch.Tensor, np.ndarray]:
    """Read every training image, resized to ``img_size`` (square).

    Images keep the channel order the dataset delivers them in (what the
    student's pipeline sees), so generated images can take the same path.

    Args:
        dataset (BaseDataset): A dataset with ``get_data_info(i)`` (the raw
            samples).
        img_size (int): The cGAN's resolution.
        target (callable): Reads the label from a raw sample.
        show_progress (bool): Show a progress bar.

    Returns:
        tuple: uint8 images (N, C, S, S) and the labels as a numpy array.
    """
    num = len(dataset)
    images: Optional[torch.Tensor] = None
    labels = []
    bar = ProgressBar(num) if show_progress and num > 1000 else None
    for i in range(num):
        info = dataset.get_data_info(i)
        image = image_of(info)
        if image.shape[:2] != (img_size, img_size):
            image = mmcv.imresize(image, (img_size, img_size))
            if image.ndim == 2:
                image = image[..., None]
        if images is None:
            images = torch.empty((num, image.shape[2], img_size, img_size),
                                 dtype=torch.uint8)
        images[i] = torch.from_numpy(
            np.ascontiguousarray(image.transpose(2, 0, 1)))
        labels.append(target(info))
        if bar is not None:
            bar.update()
    if images is None:
        raise ValueError('the real training set is empty')
    return images, np.asarray(labels)
