# Copyright (c) cgankd_plugin contributors.
"""Packing for CRD: the contrast indices as tensors on the data sample."""
import numpy as np
import torch
from mmpretrain.datasets.transforms import PackInputs

from ...registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackCRDInputs(PackInputs):
    """mmpretrain's ``PackInputs`` plus the fields mmrazor's ``CRDLoss`` reads.

    A port of mmrazor's ``PackCRDClsInputs``, which is an mmcls placeholder
    beside mmpretrain. ``sample_idx`` is dropped from the meta keys (a meta
    key cannot also be a data field) and set as a 0-d long tensor, and
    ``contrast_sample_idxs`` (added by ``CRDDataset``) as a 1-d integer
    tensor. That one keeps an int32 dtype it is given (``CRDContrastDataset``
    below 2**31 samples): ``CRDLoss`` only reads it through
    ``index_select``, and its 16,385 indices a sample are what loader
    workers send most (``benchmarks/crd_loader.py --packed``).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.meta_keys = tuple(k for k in self.meta_keys if k != 'sample_idx')

    def transform(self, results: dict) -> dict:
        """Pack the image, labels, meta keys and the CRD indices."""
        for key in ('sample_idx', 'contrast_sample_idxs'):
            if key not in results:
                raise KeyError(
                    f'PackCRDInputs needs {key!r} in the results: wrap the '
                    "training set in 'CRDContrastDataset' (or mmrazor's "
                    "'CRDDataset').")
        packed = super().transform(results)
        data_sample = packed['data_samples']
        data_sample.set_field(
            torch.tensor(int(results['sample_idx']), dtype=torch.long),
            'sample_idx')
        idxs = np.asarray(results['contrast_sample_idxs'])
        if idxs.dtype != np.int32:
            idxs = idxs.astype(np.int64)
        data_sample.set_field(torch.from_numpy(idxs), 'contrast_sample_idxs')
        return packed
