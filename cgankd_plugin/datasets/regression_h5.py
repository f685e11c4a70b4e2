# Copyright (c) cgankd_plugin contributors.
"""Image-regression datasets: the shared base and the h5-file dataset."""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmpretrain.datasets import BaseDataset

from cgankd_plugin.registry import DATASETS

LabelRange = Optional[Tuple[float, float]]


def _check_label_range(label_range: Optional[Sequence[float]]) -> LabelRange:
    """Validate ``label_range`` and return it as a float pair (or None)."""
    if label_range is None:
        return None
    if len(label_range) != 2:
        raise ValueError('label_range must be (low, high), got '
                         f'{label_range!r}')
    low, high = (float(bound) for bound in label_range)
    if not low <= high:
        raise ValueError(f'label_range must have low <= high, got '
                         f'{(low, high)}')
    return low, high


class BaseRegressionDataset(BaseDataset):
    """Base of the datasets whose samples carry a scalar ``gt_value``.

    Every data info has ``gt_value``, a float in original units (years,
    degrees). Subclasses implement ``load_data_list`` and may use
    :meth:`in_label_range` to keep only labels in ``label_range``.

    ``metainfo`` holds ``label_range`` (the closed range samples are
    filtered to, or None) and ``normalization_range`` (the ``(lo, hi)``
    the official code normalises labels with -- what
    :class:`RegressionHead`'s ``label_range`` should be set to; defaults to
    ``label_range``).

    Args:
        ann_file (str): Annotation file, relative to ``data_root`` unless
            absolute.
        label_range (Tuple[float, float], optional): Keep only samples with
            ``low <= gt_value <= high``. Defaults to None (keep all).
        metainfo (dict, optional): Extra meta information.
            Defaults to None.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``data_root``, ``data_prefix``, ``pipeline``, ``test_mode``,
            ``indices``, ``lazy_init``, ...).
    """

    METAINFO = dict(label_range=None, normalization_range=None)

    def __init__(self,
                 ann_file: str,
                 label_range: Optional[Sequence[float]] = None,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        self.label_range = _check_label_range(label_range)
        metainfo = dict(metainfo or {})
        metainfo['label_range'] = self.label_range
        normalization_range = metainfo.get(
            'normalization_range',
            self.METAINFO.get('normalization_range')) or self.label_range
        metainfo['normalization_range'] = _check_label_range(
            normalization_range)
        super().__init__(ann_file=ann_file, metainfo=metainfo, **kwargs)

    def in_label_range(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask of the ``values`` inside the closed label range."""
        values = np.asarray(values, dtype=np.float64)
        if self.label_range is None:
            return np.ones(values.shape, dtype=bool)
        low, high = self.label_range
        return (values >= low) & (values <= high)

    def get_gt_values(self) -> np.ndarray:
        """All ``gt_value`` of the dataset, float64, original units."""
        return np.array([
            self._get_label_info(index)['gt_value']
            for index in range(len(self))
        ],
                        dtype=np.float64)

    def _get_label_info(self, index: int) -> dict:
        """The stored data info of a sample, without loading its image."""
        return super().get_data_info(index)

    def get_cat_ids(self, idx: int) -> List[int]:
        """Regression samples have no category; raises ``TypeError``."""
        raise TypeError(f'{type(self).__name__} is a regression dataset; '
                        'it has no category ids (use get_gt_values)')

    def extra_repr(self) -> List[str]:
        """The extra repr information of the dataset."""
        return super().extra_repr() + [
            f'Label range: \t{self.label_range}'
        ]


@DATASETS.register_module()
class RegressionH5Dataset(BaseRegressionDataset):
    """Images and scalar labels stored in an h5 file (cGAN-KD layout).

    Supported layouts, tried in this order:

    1. ``images_<split>`` and ``labels_<split>`` -- the official cGAN-KD
       files (``UTKFace_64x64_prop_0.8.h5``,
       ``SteeringAngle_64x64_prop_0.8.h5``) hold ``images_train``,
       ``labels_train``, ``images_test`` and ``labels_test``.
    2. ``images`` and ``labels`` for all samples plus an index split -- the
       CcGAN files (e.g. ``RC-49_64x64.h5``): the rows of ``indx_<split>``
       are used, or for ``split='test'`` without ``indx_test`` every row not
       in ``indx_train``. Without any index the whole file is the training
       split (CcGAN's ``UTKFace_64x64.h5``) and ``split='test'`` is an
       error.

    Images are ``N x C x H x W`` (the official layout) or ``N x H x W x C``
    uint8 arrays; each sample's ``img`` is an ``H x W x C`` array in the
    file's channel order -- RGB for the official files, so configs use
    ``to_rgb=False`` in the data preprocessor (as for mmpretrain's CIFAR).

    Each data info holds ``img``, ``gt_value`` (float, original units),
    ``img_shape``, ``ori_shape``, ``sample_idx`` and ``h5_row`` (the row in
    the file). With ``in_memory=True`` the images of the split are read once
    into one array (shared copy-on-write by forked dataloader workers);
    with ``in_memory=False`` only labels are read up front and each image is
    read from the file when requested (each process opens its own handle).

    Args:
        data_root (str): Directory of the h5 file. Defaults to ``''``.
        ann_file (str): h5 file name, relative to ``data_root`` unless
            absolute.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        label_range (Tuple[float, float], optional): Keep only samples with
            labels in this closed range. Defaults to None (keep all).
        in_memory (bool): Read all images of the split at once.
            Defaults to True.
        **kwargs: Other arguments of :class:`BaseRegressionDataset`.
    """

    SPLITS = ('train', 'test')

    def __init__(self,
                 data_root: str = '',
                 ann_file: str = '',
                 split: str = 'train',
                 label_range: Optional[Sequence[float]] = None,
                 in_memory: bool = True,
                 **kwargs) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'split must be one of {self.SPLITS}, got '
                             f'{split!r}')
        if not ann_file:
            raise ValueError(f'{type(self).__name__} needs ann_file, the '
                             'h5 file name')
        self.split = split
        self.in_memory = in_memory
        self._image_array: Optional[np.ndarray] = None
        self._channels_first = True
        self._h5_file = None
        self._h5_file_pid: Optional[int] = None
        self._h5_images_key: Optional[str] = None
        super().__init__(
            ann_file=ann_file,
            label_range=label_range,
            data_root=data_root,
            **kwargs)

    # ------------------------------------------------------------------
    # loading
    # ------------------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        """Read the labels (and, in memory, the images) of the split."""
        import h5py

        path = self.ann_file
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{type(self).__name__}: h5 file not found: {path}')
        with h5py.File(path, 'r') as h5_file:
            images_key, labels_key, rows = self._resolve_keys(h5_file)
            images = h5_file[images_key]
            labels = np.asarray(h5_file[labels_key][()],
                                dtype=np.float64).reshape(-1)
            if len(labels) != len(images):
                raise ValueError(f'{path}: {len(images)} images in '
                                 f'{images_key!r} but {len(labels)} labels '
                                 f'in {labels_key!r}')
            if images.ndim != 4:
                raise ValueError(f'{path}: {images_key!r} must be N x C x H x'
                                 f' W or N x H x W x C, got shape '
                                 f'{images.shape}')
            self._channels_first = images.shape[1] in (1, 3)
            if not self._channels_first and images.shape[3] not in (1, 3):
                raise ValueError(f'{path}: cannot tell the channel axis of '
                                 f'{images_key!r} with shape {images.shape}')
            height, width = (images.shape[2:4] if self._channels_first else
                             images.shape[1:3])
            if rows is None:
                rows = np.arange(len(labels))
            rows = rows[self.in_label_range(labels[rows])]
            if self.in_memory:
                # One array for the split; data infos index into it.
                all_images = images[()]
                keeps_all_rows = np.array_equal(rows,
                                                np.arange(len(all_images)))
                self._image_array = (
                    all_images if keeps_all_rows else all_images[rows])
                array_rows = np.arange(len(rows))
            else:
                self._h5_images_key = images_key
                array_rows = rows
            split_labels = labels[rows]

        image_shape = (int(height), int(width))
        return [
            dict(
                h5_row=int(row),
                gt_value=float(label),
                img_shape=image_shape,
                ori_shape=image_shape)
            for row, label in zip(array_rows, split_labels)
        ]

    def _resolve_keys(self, h5_file) -> Tuple[str, str, Optional[np.ndarray]]:
        """Find the images key, labels key and rows of ``self.split``."""
        present = sorted(h5_file.keys())

        def require(*keys):
            for key in keys:
                if key not in h5_file:
                    raise KeyError(f'{self.ann_file}: no key {key!r}; keys '
                                   f'present: {present}')

        images_key = f'images_{self.split}'
        labels_key = f'labels_{self.split}'
        if images_key in h5_file or 'images' not in h5_file:
            require(images_key, labels_key)
            return images_key, labels_key, None

        require('images', 'labels')
        index_key = f'indx_{self.split}'
        num_samples = len(h5_file['labels'])
        if index_key in h5_file:
            rows = np.asarray(h5_file[index_key][()], dtype=np.int64)
        elif self.split == 'test' and 'indx_train' in h5_file:
            in_train = np.zeros(num_samples, dtype=bool)
            in_train[np.asarray(h5_file['indx_train'][()], dtype=np.int64)] \
                = True
            rows = np.flatnonzero(~in_train)
        elif self.split == 'train':
            rows = np.arange(num_samples)
        else:
            raise KeyError(f"{self.ann_file}: no key 'images_test', "
                           "'indx_test' or 'indx_train' to take the test "
                           f'split from; keys present: {present}')
        return 'images', 'labels', rows.reshape(-1)

    # ------------------------------------------------------------------
    # per-sample access
    # ------------------------------------------------------------------
    def get_data_info(self, idx: int) -> dict:
        """Data info of sample ``idx``, with its image as ``img`` (HWC)."""
        data_info = super().get_data_info(idx)
        data_info['img'] = self._read_image(data_info['h5_row'])
        return data_info

    def _read_image(self, row: int) -> np.ndarray:
        """Image ``row`` as a fresh, contiguous ``H x W x C`` array."""
        if self.in_memory:
            image = self._image_array[row]
        else:
            image = self._open_h5_images()[row]
        if self._channels_first:
            image = image.transpose(1, 2, 0)
        return np.array(image, order='C', copy=True)

    def _open_h5_images(self):
        """The images dataset of this process's own handle on the file."""
        import h5py

        if self._h5_file is None or self._h5_file_pid != os.getpid():
            self._h5_file = h5py.File(self.ann_file, 'r')
            self._h5_file_pid = os.getpid()
        return self._h5_file[self._h5_images_key]

    def __getstate__(self) -> dict:
        # An open h5py handle cannot be pickled (spawned workers); each
        # process reopens the file on first access.
        state = self.__dict__.copy()
        state['_h5_file'] = None
        state['_h5_file_pid'] = None
        return state

    def extra_repr(self) -> List[str]:
        """The extra repr information of the dataset."""
        return super().extra_repr() + [f'Split: \t{self.split}']
