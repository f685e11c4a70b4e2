# Copyright (c) cgankd_plugin contributors.
"""The bank of a class-conditional GAN: one block (and shard) per class.

Class ``c``'s block opens with the survivors of its burn-in draw (with
cDR-RS, of the cDR-RS sampler, whose bound ``M`` is the class's own),
which also sets the class's cut-off (its own quantile); rounds of
candidates of class ``c`` follow until its quota is full. The
stored label is the generating class (``relabel='none'``) or the
teacher's argmax (``'hard'``), with its probabilities (``'soft'``).
"""
from typing import Dict

import numpy as np
import torch

from ..teacher_filter import classification_statistic
from .base import BaseBankBuilder


class ClassificationBankBuilder(BaseBankBuilder):
    """Build the bank of a ``ClassConditionalGAN``, class by class.

    The filter's statistic is the teacher's cross-entropy at the generating
    class; each class has its own cut-off (and, with cDR-RS, its own
    ``M``). Takes the arguments of :class:`BaseBankBuilder`.
    """

    is_regression = False
    label_dtype = 'int64'

    def _statistic(self, outputs: torch.Tensor,
                   conditions: np.ndarray) -> np.ndarray:
        target = torch.as_tensor(conditions, dtype=torch.long)
        return classification_statistic(outputs, target)

    def _relabel(self, chunk: Dict[str, np.ndarray],
                 outputs: torch.Tensor) -> None:
        if self.relabel == 'none':
            chunk['teacher_labels'] = chunk['cond_labels'].astype(np.int64)
        else:
            chunk['teacher_labels'] = outputs.argmax(1).numpy().astype(
                np.int64)
        if self.relabel == 'soft':
            chunk['teacher_probs'] = outputs.softmax(1).numpy().astype(
                np.float32)
