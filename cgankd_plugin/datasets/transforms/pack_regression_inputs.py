# Copyright (c) cgankd_plugin contributors.
"""Pack a regression sample: image plus a scalar ``gt_value``."""
import numpy as np
import torch
from mmpretrain.datasets.transforms import PackInputs

from cgankd_plugin.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackRegressionInputs(PackInputs):
    """:class:`mmpretrain.datasets.transforms.PackInputs` plus ``gt_value``.

    Everything ``PackInputs`` does is kept (``inputs``, ``gt_label`` /
    ``gt_score`` / ``mask`` when present, ``algorithm_keys``, meta keys).
    In addition ``results['gt_value']`` -- a scalar in original units --
    is stored in the ``DataSample`` as the data field ``gt_value``, a
    ``torch.float32`` tensor of shape ``(1,)``.

    Args:
        input_key (str): Key of the model input. Defaults to ``'img'``.
        algorithm_keys (Sequence[str]): Extra keys stored as data fields.
            Defaults to ``()``.
        meta_keys (Sequence[str]): Keys stored as meta information.
            Defaults to ``PackInputs.DEFAULT_META_KEYS``.
    """

    def transform(self, results: dict) -> dict:
        """Pack ``results`` into ``inputs`` and ``data_samples``."""
        packed = super().transform(results)
        if 'gt_value' in results:
            value = results['gt_value']
            if isinstance(value, torch.Tensor):
                value = value.detach().cpu().numpy()
            value = np.asarray(value, dtype=np.float32).reshape(-1)
            if value.size != 1:
                raise ValueError('gt_value must be a single number, got '
                                 f'{value.size} values')
            packed['data_samples'].set_field(
                torch.from_numpy(value), 'gt_value', dtype=torch.Tensor)
        return packed
