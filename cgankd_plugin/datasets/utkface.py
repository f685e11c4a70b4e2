# Copyright (c) cgankd_plugin contributors.
"""The UTKFace age-regression dataset in cGAN-KD's h5 format."""
from typing import Optional, Sequence

from cgankd_plugin.registry import DATASETS
from .regression_h5 import RegressionH5Dataset


@DATASETS.register_module()
class UTKFace(RegressionH5Dataset):
    """UTKFace faces at 64x64 with their age in years as ``gt_value``.

    The official cGAN-KD code (``UTKFace/baseline_cnn.py``) reads
    ``UTKFace_64x64_prop_0.8.h5`` with keys ``images_train``,
    ``labels_train``, ``images_test`` and ``labels_test`` (uint8 RGB images
    ``N x 3 x 64 x 64``, ages 1 to 60). It normalises ages as ``age / 60``
    (``max_label=60``), so ``metainfo['normalization_range']`` is
    ``(0, 60)``: give that to ``RegressionHead(label_range=...)`` to train
    on exactly the official targets. CcGAN's ``UTKFace_64x64.h5``
    (``images``/``labels``, no split) also loads, as the training split; see
    :class:`RegressionH5Dataset` for all supported layouts.

    Args:
        data_root (str): Directory holding the h5 file. Defaults to ``''``.
        ann_file (str): h5 file name.
            Defaults to ``'UTKFace_64x64_prop_0.8.h5'``.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        label_range (Tuple[float, float], optional): Closed range of ages to
            keep. Defaults to ``(1, 60)`` (the official min/max label).
        **kwargs: Other arguments of :class:`RegressionH5Dataset`.
    """

    METAINFO = dict(label_range=(1.0, 60.0), normalization_range=(0.0, 60.0))

    def __init__(self,
                 data_root: str = '',
                 ann_file: str = 'UTKFace_64x64_prop_0.8.h5',
                 split: str = 'train',
                 label_range: Optional[Sequence[float]] = (1.0, 60.0),
                 **kwargs) -> None:
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            split=split,
            label_range=label_range,
            **kwargs)
