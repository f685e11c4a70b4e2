# Copyright (c) cgankd_plugin contributors.
"""ImageNet-100: ImageNet's folder layout restricted to a list of classes."""
import os
import os.path as osp
from typing import List, Optional

from mmpretrain.datasets import BaseDataset

from ..registry import DATASETS

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def read_class_list(path: str) -> List[str]:
    """Class folder names (e.g. WordNet ids), one per line, in order."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'ImageNet100: class list {path!r} does not '
                                'exist (one class folder name per line).')
    with open(path, encoding='utf-8') as f:
        names = [line.split()[0] for line in f if line.strip()]
    if len(set(names)) != len(names):
        raise ValueError(f'ImageNet100: {path!r} lists a class twice')
    return names


@DATASETS.register_module()
class ImageNet100(BaseDataset):
    """A class subset of ImageNet in its folder layout.

    ``<data_root>/<split>/<class>/<image>`` for every class named in
    ``class_list`` (the paper's ImageNet-100 uses 100 WordNet ids); labels
    follow the order of that file. The official validation images must be
    sorted into class folders the same way. Images are loaded by the
    pipeline (``LoadImageFromFile``, BGR).

    Args:
        data_root (str): The ImageNet root.
        class_list (str): Path of the class list file (relative paths are
            taken from ``data_root``).
        split (str): ``'train'`` or ``'val'`` (the folder name).
        **kwargs: Other arguments of mmpretrain's ``BaseDataset``.
    """

    def __init__(self,
                 data_root: str,
                 class_list: str = 'imagenet100_classes.txt',
                 split: str = 'train',
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        if not osp.isabs(class_list):
            class_list = osp.join(data_root, class_list)
        self.class_names = read_class_list(class_list)
        self.split = split
        metainfo = dict(metainfo or {}, classes=tuple(self.class_names))
        super().__init__(
            ann_file='', data_root=data_root, metainfo=metainfo, **kwargs)

    def load_data_list(self) -> List[dict]:
        split_dir = osp.join(self.data_root, self.split)
        data_list = []
        for label, name in enumerate(self.class_names):
            folder = osp.join(split_dir, name)
            if not osp.isdir(folder):
                raise FileNotFoundError(
                    f'ImageNet100: class folder {folder!r} is missing')
            files = sorted(
                f for f in os.listdir(folder)
                if f.lower().endswith(IMAGE_EXTENSIONS))
            if not files:
                raise FileNotFoundError(
                    f'ImageNet100: no images in {folder!r}')
            data_list += [
                dict(img_path=osp.join(folder, f), gt_label=label)
                for f in files
            ]
        return data_list
