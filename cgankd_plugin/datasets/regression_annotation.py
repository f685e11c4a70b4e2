# Copyright (c) cgankd_plugin contributors.
"""Image-regression dataset listed in a text file of ``path value`` lines."""
import math
from typing import List

from mmengine.fileio import exists, get_text, join_path

from cgankd_plugin.registry import DATASETS
from .regression_h5 import BaseRegressionDataset


@DATASETS.register_module()
class RegressionAnnotationDataset(BaseRegressionDataset):
    """Image files with a scalar label each, listed in a text file.

    Every non-blank line of ``ann_file`` is ``<image path> <value>``: the
    path is relative to ``data_prefix`` (itself relative to ``data_root``)
    and may contain spaces (the value is the last field), the value is a
    float in original units. For example::

        faces/0001.png 23
        faces/0002.png 41.5

    Data infos hold ``img_path`` and ``gt_value``; the image is read by the
    pipeline (``LoadImageFromFile``, which gives BGR, so configs use
    ``to_rgb=True`` in the data preprocessor).

    Args:
        ann_file (str): The list file, relative to ``data_root`` unless
            absolute.
        data_root (str): Root of ``ann_file`` and ``data_prefix``.
            Defaults to ``''``.
        data_prefix (str | dict): Directory the image paths are relative
            to. Defaults to ``''``.
        label_range (Tuple[float, float], optional): Keep only samples with
            labels in this closed range. Defaults to None (keep all).
        **kwargs: Other arguments of :class:`BaseRegressionDataset`.
    """

    def load_data_list(self) -> List[dict]:
        """Parse ``ann_file`` into data infos."""
        if not exists(self.ann_file):
            raise FileNotFoundError(f'{type(self).__name__}: annotation file '
                                    f'not found: {self.ann_file}')
        data_list = []
        lines = get_text(self.ann_file).splitlines()
        for line_number, line in enumerate(lines, start=1):
            line = line.strip()
            if not line:
                continue
            fields = line.rsplit(maxsplit=1)
            value = None
            if len(fields) == 2:
                try:
                    value = float(fields[1])
                except ValueError:
                    pass
            if value is None or not math.isfinite(value):
                raise ValueError(f'{self.ann_file}, line {line_number}: '
                                 'expected "<image path> <number>", got '
                                 f'{line!r}')
            if not self.in_label_range(value):
                continue
            image_path = fields[0]
            if self.img_prefix:
                image_path = join_path(self.img_prefix, image_path)
            data_list.append(dict(img_path=image_path, gt_value=value))
        return data_list
