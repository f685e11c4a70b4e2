# Copyright (c) cgankd_plugin contributors.
"""A regression set as a CcGAN trains on it under MMEngine's Runner."""
import copy
from typing import Optional, Sequence, Tuple, Union

import torch

from ..registry import DATASETS


@DATASETS.register_module()
class VicinalDataset:
    """The real images of a regression set, served at vicinal draws.

    CcGAN's discriminator batches are drawn from label vicinities
    (:class:`~cgankd_plugin.datasets.samplers.VicinalBatchSampler` draws
    them from :attr:`labels`): an item is ``(index, draws)``, the sample
    ``index`` of the wrapped set with the draws made for it (its target
    label, the label of the fake scored beside it, ...) added to its data
    sample's metainfo, which ``ConditionalGANDataPreprocessor`` gathers. A
    plain ``index`` gives the sample alone.

    Args:
        dataset (dict | BaseDataset): The regression set (samples with
            ``gt_value``), its pipeline ending in ``PackInputs``.
        label_range (Sequence[float], optional): The ``(low, high)`` that
            labels are normalised by, to [0, 1] as the CcGAN takes them;
            defaults to the set's ``normalization_range``, else its
            ``label_range`` (as ``CGANHook`` normalises them).
    """

    def __init__(self,
                 dataset: Union[dict, object],
                 label_range: Optional[Sequence[float]] = None) -> None:
        if isinstance(dataset, dict):
            dataset = DATASETS.build(copy.deepcopy(dataset))
        self.dataset = dataset
        self.metainfo = dataset.metainfo
        bounds = (label_range or self.metainfo.get('normalization_range')
                  or self.metainfo.get('label_range'))
        if bounds is None:
            raise ValueError('VicinalDataset.label_range is needed: the '
                             f'{type(dataset).__name__} has no '
                             'normalization_range')
        self.label_range: Tuple[float, float] = (float(bounds[0]),
                                                 float(bounds[1]))
        self._labels: Optional[torch.Tensor] = None

    @property
    def labels(self) -> torch.Tensor:
        """(N,) float64 labels normalised to [0, 1] (read once)."""
        if self._labels is None:
            low, high = self.label_range
            values = []
            for i in range(len(self.dataset)):
                info = self.dataset.get_data_info(i)
                if 'gt_value' not in info:
                    raise KeyError(
                        f'VicinalDataset: sample {i} of the '
                        f'{type(self.dataset).__name__} has no gt_value '
                        '(a CcGAN trains on a regression set)')
                values.append(float(info['gt_value']))
            labels = (torch.tensor(values, dtype=torch.float64) - low) / (
                high - low)
            if len(labels) and (labels.min() < 0 or labels.max() > 1):
                raise ValueError(
                    'VicinalDataset: labels fall outside label_range '
                    f'{self.label_range}: normalised to '
                    f'[{float(labels.min()):.4f}, {float(labels.max()):.4f}]')
            self._labels = labels
        return self._labels

    def __len__(self) -> int:
        return len(self.dataset)

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(idx)

    def __getitem__(self, item):
        draws = {}
        if isinstance(item, tuple):
            item, draws = item
        sample = self.dataset[int(item)]
        if draws:
            if 'data_samples' not in sample:
                raise KeyError(
                    'VicinalDataset: the samples of the wrapped dataset have '
                    'no data_samples; end its pipeline in '
                    "dict(type='mmpretrain.PackInputs')")
            sample['data_samples'].set_metainfo(dict(draws))
        return sample
