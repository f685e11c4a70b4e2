# Copyright (c) cgankd_plugin contributors.
import os

import mmcv
import numpy as np
import pytest
from mmengine.config import Config

from cgankd_plugin.datasets import ImageNet100
from cgankd_plugin.datasets.transforms import LoadImageUnlessGiven
from cgankd_plugin.registry import DATASETS

CLASSES = ['n01440764', 'n01443537', 'n01484850']


def write_imagenet(root, classes=CLASSES, per_class=2, extra=('n09999999', )):
    """ImageNet folder layout: <root>/<split>/<wnid>/<img>, a class list."""
    rng = np.random.default_rng(0)
    for split in ('train', 'val'):
        for wnid in list(classes) + list(extra):
            folder = os.path.join(root, split, wnid)
            os.makedirs(folder, exist_ok=True)
            for i in range(per_class):
                img = rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)
                mmcv.imwrite(img, os.path.join(folder, f'{wnid}_{i}.JPEG'))
    with open(os.path.join(root, 'classes.txt'), 'w') as f:
        f.write('\n'.join(classes) + '\n')
    return root


def test_imagenet100_reads_only_listed_classes_in_list_order(tmp_path):
    root = write_imagenet(str(tmp_path))
    ds = ImageNet100(data_root=root, class_list='classes.txt', split='train')
    assert len(ds) == 6
    assert ds.metainfo['classes'] == tuple(CLASSES)
    assert list(ds.get_gt_labels()) == [0, 0, 1, 1, 2, 2]
    assert all('n09999999' not in ds.get_data_info(i)['img_path']
               for i in range(len(ds)))


def test_imagenet100_missing_class_folder_is_named(tmp_path):
    root = write_imagenet(str(tmp_path))
    with open(os.path.join(root, 'classes.txt'), 'a') as f:
        f.write('n00000001\n')
    with pytest.raises(FileNotFoundError, match='n00000001'):
        ImageNet100(data_root=root, class_list='classes.txt')


def test_imagenet100_config_pipeline_on_tiny_files(tmp_path):
    root = write_imagenet(str(tmp_path))
    cfg = Config.fromfile('configs/_base_/datasets/imagenet100_bs128.py')
    ds_cfg = cfg.val_dataloader.dataset
    ds_cfg.update(data_root=root, class_list='classes.txt')
    ds = DATASETS.build(ds_cfg)
    sample = ds[0]
    assert tuple(sample['inputs'].shape) == (3, 128, 128)
    assert int(sample['data_samples'].gt_label) == 0


def test_load_image_unless_given_keeps_bank_images(tmp_path):
    root = write_imagenet(str(tmp_path))
    path = os.path.join(root, 'train', CLASSES[0], f'{CLASSES[0]}_0.JPEG')
    load = LoadImageUnlessGiven()
    loaded = load(dict(img_path=path))
    assert loaded['img'].shape == (20, 24, 3)
    given = np.zeros((8, 8, 3), np.uint8)
    out = load(dict(img=given))
    assert out['img'] is given and out['img_shape'] == (8, 8)
