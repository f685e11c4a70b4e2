# Copyright (c) cgankd_plugin contributors.
"""Present a grayscale image as a 3-channel one."""
import numpy as np
from mmcv.transforms import BaseTransform

from cgankd_plugin.registry import TRANSFORMS


@TRANSFORMS.register_module()
class GrayToRGB(BaseTransform):
    """Repeat the single channel of a grayscale image three times.

    The CIFAR zoo (and every 3-channel teacher or student) expects
    ``H x W x 3`` inputs, while MNIST-like data sets yield ``H x W`` (or
    ``H x W x 1``) arrays. Repeating the channel, rather than changing the
    first conv of each network, keeps every zoo model and data
    preprocessor usable as it is.

    Required Keys:

    - img

    Modified Keys:

    - img

    An image that already has three channels is left alone, so the
    transform can sit in a pipeline that mixes grayscale and colour
    samples (e.g. real images plus a bank of generated ones).
    """

    def transform(self, results: dict) -> dict:
        """Turn ``results['img']`` into an ``H x W x 3`` array.

        Args:
            results (dict): The sample; ``img`` is an ``H x W``,
                ``H x W x 1`` or ``H x W x 3`` array.

        Returns:
            dict: The sample, ``img`` now ``H x W x 3`` of the same dtype.

        Raises:
            ValueError: If ``img`` has another shape.
        """
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        if img.ndim != 3 or img.shape[2] not in (1, 3):
            raise ValueError('GrayToRGB expects an H x W, H x W x 1 or '
                             f'H x W x 3 image, got shape {img.shape}')
        if img.shape[2] == 1:
            # np.repeat copies, so later in-place transforms (flip, crop)
            # never write through a view into the data set's own array.
            img = np.repeat(img, 3, axis=2)
        results['img'] = img
        return results
