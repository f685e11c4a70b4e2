# Copyright (c) cgankd_plugin contributors.
"""CIFAR-100 read from local files in the official pickle layout."""
import os.path as osp
from typing import Optional

from mmpretrain.datasets import CIFAR100
from mmpretrain.datasets.utils import check_md5

from ..registry import DATASETS


@DATASETS.register_module()
class LocalCIFAR100(CIFAR100):
    """mmpretrain's ``CIFAR100`` that never downloads, with an md5 switch.

    mmpretrain checks the md5 of the official ``train`` and ``test`` files
    whichever split is asked for, and on a mismatch says it "cannot find"
    the data although the files are there. That check is right for the
    official release and stays on by default. Files you made yourself in the
    official layout (a subset, a re-split, the tiny files of our tests) need
    ``check_md5=False``; the layout is still required: both pickles under
    ``<data_root>/cifar-100-python/``, ``str`` keys ``'data'`` (N x 3072
    uint8) and ``'fine_labels'``.

    Args:
        data_root (str): The folder holding ``cifar-100-python/``.
        split (str): ``'train'`` or ``'test'``.
        check_md5 (bool): Compare the files with the official checksums.
            Defaults to True.
        **kwargs: Other arguments of mmpretrain's ``CIFAR100``; ``download``
            is forced to False (nothing downloads at run time).
    """

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 check_md5: bool = True,
                 download: Optional[bool] = False,
                 **kwargs) -> None:
        if download:
            raise ValueError(
                'LocalCIFAR100 never downloads (download=True was given); '
                'put the official files under '
                f'{data_root!r}/cifar-100-python/.')
        self.check_md5 = check_md5
        if not check_md5:
            # Checksums are class attributes; an entry whose md5 is None is
            # skipped by ``_check_integrity``. Shadow them per instance.
            self.train_list = [[name, None] for name, _ in self.train_list]
            self.test_list = [[name, None] for name, _ in self.test_list]
        super().__init__(
            data_root=data_root, split=split, download=False, **kwargs)

    def load_data_list(self):
        """Check the files (saying where they go), then load them."""
        self._check_files()
        return super().load_data_list()

    def _check_files(self) -> None:
        """Refuse missing or altered files with what to do about them.

        mmpretrain's own message for both cases suggests
        ``download=True``, which this dataset refuses.

        Raises:
            FileNotFoundError: a file of the official layout is missing.
            RuntimeError: a file's md5 is not the official release's.
        """
        folder = osp.join(self.data_prefix['root'], self.base_folder)
        entries = self.train_list + self.test_list
        missing = [name for name, _ in entries
                   if not osp.isfile(osp.join(folder, name))]
        if missing:
            raise FileNotFoundError(
                f'LocalCIFAR100: {", ".join(missing)} not found in '
                f'{folder}/. Put the official CIFAR-100 python files there '
                '(extract cifar-100-python.tar.gz from '
                'https://www.cs.toronto.edu/~kriz/cifar.html into '
                f'{self.data_prefix["root"]!r}: it holds cifar-100-python/'
                '{train,test,meta}), or point data_root at the folder that '
                'holds cifar-100-python/. Nothing downloads at run time.')
        altered = [name for name, md5 in entries if md5 is not None
                   and not check_md5(osp.join(folder, name), md5)]
        if altered:
            raise RuntimeError(
                f'LocalCIFAR100: the md5 of {", ".join(altered)} in '
                f'{folder}/ is not the official release\'s. For files you '
                'made yourself in the official layout set check_md5=False '
                '(e.g. --cfg-options '
                'train_dataloader.dataset.check_md5=False).')
