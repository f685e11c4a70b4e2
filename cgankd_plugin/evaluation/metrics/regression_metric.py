# Copyright (c) cgankd_plugin contributors.
"""Mean absolute error and root mean squared error of scalar predictions."""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from cgankd_plugin.registry import METRICS
from cgankd_plugin.utils.atomic_io import atomic_write_json


def _as_float64(values: Union[torch.Tensor, np.ndarray, Sequence, float]
                ) -> np.ndarray:
    """Values of a tensor, array, sequence or number as flat float64."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=np.float64).reshape(-1)


def _to_float(value: Union[torch.Tensor, np.ndarray, float]) -> float:
    """Turn a one-element tensor / array / number into a Python float."""
    array = _as_float64(value)
    if array.size != 1:
        raise ValueError(f'expected a single value, got shape {array.shape}')
    return float(array[0])


@METRICS.register_module()
class RegressionMetric(BaseMetric):
    """MAE and RMSE between ``pred_value`` and ``gt_value``.

    Both fields are read from each data sample (a ``DataSample`` or the dict
    MMEngine's evaluator turns it into) and are taken to be in original
    units -- :class:`RegressionHead` writes ``pred_value`` that way and
    :class:`PackRegressionInputs` packs ``gt_value`` that way -- so the
    reported errors are in original units too (years, degrees).

    Args:
        collect_device (str): Device used to gather results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the reported keys, giving e.g.
            ``regression/mae``. Defaults to ``'regression'``.
        errors_file (str, optional): Also write every evaluated sample's
            ``gt_value`` and ``pred_value`` to this JSON file (atomically,
            replaced at each evaluation), e.g. to plot the error against
            the label. Defaults to None (no file).
    """

    default_prefix: Optional[str] = 'regression'

    def __init__(self,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = 'regression',
                 errors_file: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.errors_file = errors_file

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Store ``(pred_value, gt_value)`` of each sample of a batch.

        Args:
            data_batch (Any): Unused.
            data_samples (Sequence[dict | DataSample]): Model outputs.
        """
        for index, sample in enumerate(data_samples):
            if not isinstance(sample, dict):
                sample = sample.to_dict()
            for field in ('pred_value', 'gt_value'):
                if field not in sample:
                    raise KeyError(f'data sample {index} of the batch has no '
                                   f'{field!r}; fields present: '
                                   f'{sorted(sample)}')
            self.results.append((_to_float(sample['pred_value']),
                                 _to_float(sample['gt_value'])))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        """Compute MAE and RMSE over everything processed.

        Args:
            results (list): ``(prediction, ground_truth)`` pairs.

        Returns:
            dict[str, float]: ``mae`` and ``rmse`` in original units.
        """
        predictions, ground_truths = np.asarray(results, dtype=np.float64).T
        if self.errors_file:
            # compute_metrics runs on the main process only
            atomic_write_json(
                self.errors_file,
                dict(
                    gt_value=ground_truths.tolist(),
                    pred_value=predictions.tolist()))
        return self.calculate(predictions, ground_truths)

    @staticmethod
    def calculate(predictions: Union[np.ndarray, torch.Tensor, Sequence],
                  ground_truths: Union[np.ndarray, torch.Tensor, Sequence]
                  ) -> Dict[str, float]:
        """MAE and RMSE of two equally long sequences of values.

        Args:
            predictions (array-like): Predicted values.
            ground_truths (array-like): True values, same length.

        Returns:
            dict[str, float]: ``mae`` and ``rmse``.
        """
        predictions = _as_float64(predictions)
        ground_truths = _as_float64(ground_truths)
        if predictions.shape != ground_truths.shape:
            raise ValueError(f'{predictions.size} predictions but '
                             f'{ground_truths.size} ground truths')
        errors = predictions - ground_truths
        if errors.size == 0:
            raise ValueError('no predictions to evaluate')
        return dict(
            mae=float(np.abs(errors).mean()),
            rmse=float(np.sqrt(np.square(errors).mean())))
