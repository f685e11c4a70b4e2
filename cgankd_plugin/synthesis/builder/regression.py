# Copyright (c) cgankd_plugin contributors.
"""The bank of a continuous-label GAN: one block (and shard) per label.

The conditions are the values of a label grid. The burn-in of every value
(with cDR-RS, the survivors of the value's own cDR-RS sampler and bound
``M``) is pooled into one cut-off for the whole grid (the official
regression filter); each value's block is in proportion to its burn-in
within the cut-off, a value cDR-RS keeps nothing of gets none. Label
value ``c``'s block opens with its burn-in survivors and is filled by
rounds at that value. The stored target is the teacher's value, or with
``relabel='none'`` the generating value.
"""
from typing import Dict

import numpy as np
import torch

from ..teacher_filter import regression_statistic
from .base import BaseBankBuilder


class RegressionBankBuilder(BaseBankBuilder):
    """Build the bank of a ``ContinuousConditionalGAN`` over a label grid.

    The filter's statistic is the teacher's absolute error at the
    generating label. The bank stores the teacher's value
    (``self.relabel == 'value'``, for ``relabel`` ``'hard'`` or
    ``'soft'``), or the generating value with ``relabel='none'`` (the
    official Steering Angle bank). Takes the arguments of
    :class:`BaseBankBuilder`.
    """

    is_regression = True
    label_dtype = 'float32'

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.relabel != 'none':
            self.relabel = 'value'

    def _statistic(self, outputs: torch.Tensor,
                   conditions: np.ndarray) -> np.ndarray:
        target = torch.as_tensor(
            self.bank_labels[conditions].astype(np.float32))
        return regression_statistic(outputs, target)

    def _relabel(self, chunk: Dict[str, np.ndarray],
                 outputs: torch.Tensor) -> None:
        if self.relabel == 'none':
            chunk['teacher_labels'] = chunk['cond_labels'].astype(np.float32)
        else:
            chunk['teacher_labels'] = outputs.numpy().astype(np.float32)
