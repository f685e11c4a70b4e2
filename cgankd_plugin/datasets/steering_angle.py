# Copyright (c) cgankd_plugin contributors.
"""The Steering Angle regression dataset in cGAN-KD's h5 format."""
from typing import Optional, Sequence

from cgankd_plugin.registry import DATASETS
from .regression_h5 import RegressionH5Dataset

#: Smallest and largest steering angle (degrees) of the official data; the
#: official code asserts every label lies in this range and normalises with
#: ``(angle + 88.13) / (97.92 + 88.13)``, i.e. ``(angle + 88.13) / 186.05``.
STEERING_ANGLE_RANGE = (-88.13, 97.92)


@DATASETS.register_module()
class SteeringAngle(RegressionH5Dataset):
    """Driving images at 64x64 with their steering angle in degrees.

    The official cGAN-KD code (``SteeringAngle/baseline_cnn.py``) reads
    ``SteeringAngle_64x64_prop_0.8.h5`` with keys ``images_train``,
    ``labels_train``, ``images_test`` and ``labels_test`` (uint8 RGB images
    ``N x 3 x 64 x 64``) and does not filter labels; they all lie in
    :data:`STEERING_ANGLE_RANGE`, the range it normalises with. That range
    is the default ``label_range`` (a no-op filter on the official data) and
    ``metainfo['normalization_range']``, to be given to
    ``RegressionHead(label_range=...)``. (CcGAN instead keeps only angles in
    ``(-80, 80)``: pass ``label_range=(-80, 80)`` for that.) CcGAN's
    ``SteeringAngle_64x64.h5`` (``images``/``labels``, no split) also loads,
    as the training split; see :class:`RegressionH5Dataset`.

    Args:
        data_root (str): Directory holding the h5 file. Defaults to ``''``.
        ann_file (str): h5 file name.
            Defaults to ``'SteeringAngle_64x64_prop_0.8.h5'``.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        label_range (Tuple[float, float], optional): Closed range of angles
            to keep. Defaults to :data:`STEERING_ANGLE_RANGE`.
        **kwargs: Other arguments of :class:`RegressionH5Dataset`.
    """

    METAINFO = dict(
        label_range=STEERING_ANGLE_RANGE,
        normalization_range=STEERING_ANGLE_RANGE)

    def __init__(self,
                 data_root: str = '',
                 ann_file: str = 'SteeringAngle_64x64_prop_0.8.h5',
                 split: str = 'train',
                 label_range: Optional[
                     Sequence[float]] = STEERING_ANGLE_RANGE,
                 **kwargs) -> None:
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            split=split,
            label_range=label_range,
            **kwargs)
