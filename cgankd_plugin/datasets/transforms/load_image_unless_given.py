# Copyright (c) cgankd_plugin contributors.
"""Load an image from its file unless the sample already holds it."""
from mmcv.transforms import LoadImageFromFile

from ...registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadImageUnlessGiven(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` that passes samples carrying ``img``.

    In a ``SyntheticMixDataset`` over a file-based dataset (ImageNet-100),
    real samples come as ``img_path`` and fake ones as ``img`` arrays from
    the bank; both then take the same pipeline.

    Args: as mmcv's ``LoadImageFromFile``.
    """

    def transform(self, results: dict) -> dict:
        if results.get('img') is not None:
            shape = results['img'].shape[:2]
            results.setdefault('img_shape', shape)
            results.setdefault('ori_shape', shape)
            return results
        return super().transform(results)
