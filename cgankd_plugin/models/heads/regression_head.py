# Copyright (c) cgankd_plugin contributors.
"""A scalar-regression head for mmpretrain's ``ImageClassifier``."""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.structures import DataSample

from cgankd_plugin.registry import MODELS

ArrayLike = Union[torch.Tensor, np.ndarray, float]

_LOSS_FUNCTIONS = dict(l1=F.l1_loss, l2=F.mse_loss)
_OUTPUT_ACTIVATIONS = dict(relu=nn.ReLU, sigmoid=nn.Sigmoid)


@MODELS.register_module()
class RegressionHead(BaseModule):
    """Predicts one scalar per image, e.g. an age or a steering angle.

    Drop-in head for :class:`mmpretrain.models.ImageClassifier`, which calls
    :meth:`loss` while training and :meth:`predict` while testing.

    Units: samples carry ``gt_value`` in original units (years, degrees).
    Inside the head everything is in *normalised* units: with
    ``label_range=(lo, hi)`` a label ``y`` maps to ``(y - lo) / (hi - lo)``
    (so ``[lo, hi]`` becomes ``[0, 1]``); without, the map is the identity.
    :meth:`forward` returns normalised values -- that is the tensor an
    mmrazor recorder on ``head`` (or on ``head.fc``, shape ``(N, 1)`` and
    before ``output_activation``) sees for an output-distillation term.
    :meth:`predict` converts back and writes ``pred_value`` in original
    units.

    The official cGAN-KD regression CNNs end in
    ``Linear-BN-ReLU-Linear-BN-ReLU-Linear(1)-ReLU`` trained with MSE on
    labels in ``[0, 1]``; ``hidden_channels=(512, 512)``,
    ``output_activation='relu'`` and ``loss_type='l2'`` reproduce that.

    Args:
        in_channels (int): Number of channels of the (pooled) feature the
            head receives, i.e. of ``feats[-1]``.
        label_range (Tuple[float, float], optional): ``(lo, hi)`` in original
            units used for normalisation. Defaults to None (identity).
        loss_type (str): ``'l1'`` (mean absolute error) or ``'l2'`` (mean
            squared error), computed in normalised units. Defaults to
            ``'l1'``.
        loss_weight (float): Factor the loss is multiplied by.
            Defaults to 1.0.
        hidden_channels (Sequence[int]): Widths of optional hidden
            ``Linear-BatchNorm1d-ReLU`` blocks before ``fc``.
            Defaults to ``()`` (``fc`` directly on the feature).
        output_activation (str, optional): ``'relu'``, ``'sigmoid'`` or None,
            applied after ``fc``. Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to
            ``dict(type='Normal', layer='Linear', std=0.01)``.
    """

    def __init__(self,
                 in_channels: int,
                 label_range: Optional[Tuple[float, float]] = None,
                 loss_type: str = 'l1',
                 loss_weight: float = 1.0,
                 hidden_channels: Sequence[int] = (),
                 output_activation: Optional[str] = None,
                 init_cfg: Optional[dict] = dict(
                     type='Normal', layer='Linear', std=0.01)) -> None:
        super().__init__(init_cfg=init_cfg)
        if loss_type not in _LOSS_FUNCTIONS:
            raise ValueError(f'loss_type must be one of '
                             f'{sorted(_LOSS_FUNCTIONS)}, got {loss_type!r}')
        if (output_activation is not None
                and output_activation not in _OUTPUT_ACTIVATIONS):
            raise ValueError(
                f'output_activation must be None or one of '
                f'{sorted(_OUTPUT_ACTIVATIONS)}, got {output_activation!r}')
        if label_range is not None:
            low, high = (float(bound) for bound in label_range)
            if not low < high:
                raise ValueError('label_range must be (low, high) with '
                                 f'low < high, got {tuple(label_range)}')
            label_range = (low, high)

        self.in_channels = in_channels
        self.label_range = label_range
        self.loss_type = loss_type
        self.loss_weight = loss_weight

        hidden_layers = []
        width = in_channels
        for hidden_width in hidden_channels:
            hidden_layers += [
                nn.Linear(width, hidden_width),
                nn.BatchNorm1d(hidden_width),
                nn.ReLU(inplace=True)
            ]
            width = hidden_width
        self.hidden_layers = nn.Sequential(*hidden_layers)
        self.fc = nn.Linear(width, 1)
        self.output_activation = (
            _OUTPUT_ACTIVATIONS[output_activation]()
            if output_activation is not None else nn.Identity())

    @property
    def _affine(self) -> Tuple[float, float]:
        """``(offset, scale)`` with ``normalised = (y - offset) / scale``."""
        if self.label_range is None:
            return 0.0, 1.0
        low, high = self.label_range
        return low, high - low

    def to_normalized(self, values: ArrayLike) -> ArrayLike:
        """Convert values from original units to the head's units.

        Args:
            values (Tensor | np.ndarray | float): Values in original units.

        Returns:
            ArrayLike: Same type as ``values``: ``(values - lo) / (hi - lo)``,
            or ``values`` unchanged without a ``label_range``.
        """
        offset, scale = self._affine
        return (values - offset) / scale

    def to_original(self, values: ArrayLike) -> ArrayLike:
        """Convert values from the head's units back to original units.

        Args:
            values (Tensor | np.ndarray | float): Normalised values, e.g. the
                output of :meth:`forward`.

        Returns:
            ArrayLike: Same type as ``values``: ``values * (hi - lo) + lo``, or
            ``values`` unchanged without a ``label_range``.
        """
        offset, scale = self._affine
        return values * scale + offset

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Return the last feature (after the neck), shape ``(N, C)``."""
        return feats[-1]

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Predict normalised values.

        Args:
            feats (tuple[Tensor]): Features from the backbone / neck; only
                ``feats[-1]`` of shape ``(N, in_channels)`` is used.

        Returns:
            Tensor: Shape ``(N,)``, in normalised units.
        """
        feature = self.pre_logits(feats)
        if feature.dim() > 2:
            feature = feature.flatten(1)
        output = self.output_activation(self.fc(self.hidden_layers(feature)))
        return output.squeeze(-1)

    def loss(self, feats: Tuple[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> dict:
        """Compute the regression loss against ``gt_value``.

        Args:
            feats (tuple[Tensor]): Features from the backbone / neck.
            data_samples (List[DataSample]): Samples with ``gt_value``
                (original units).
            **kwargs: Unused; accepted for interface compatibility.

        Returns:
            dict[str, Tensor]: ``dict(loss=...)``, computed in normalised
            units.
        """
        predictions = self(feats)
        targets = self.to_normalized(
            self._gather_gt_values(data_samples).to(predictions))
        loss = _LOSS_FUNCTIONS[self.loss_type](predictions, targets)
        return dict(loss=self.loss_weight * loss)

    def predict(
        self,
        feats: Tuple[torch.Tensor],
        data_samples: Optional[List[Optional[DataSample]]] = None
    ) -> List[DataSample]:
        """Predict values and store them as ``pred_value``.

        Args:
            feats (tuple[Tensor]): Features from the backbone / neck.
            data_samples (List[DataSample | None], optional): Samples to
                write into; new ones are made where missing.

        Returns:
            List[DataSample]: Samples with ``pred_value``, a float tensor of
            shape ``(1,)`` in original units.
        """
        values = self.to_original(self(feats).detach())
        if data_samples is None:
            data_samples = [None] * values.size(0)
        results = []
        for data_sample, value in zip(data_samples, values):
            if data_sample is None:
                data_sample = DataSample()
            data_sample.set_field(
                value.reshape(1), 'pred_value', dtype=torch.Tensor)
            results.append(data_sample)
        return results

    @staticmethod
    def _gather_gt_values(data_samples: List[DataSample]) -> torch.Tensor:
        """Stack the ``gt_value`` of every sample into shape ``(N,)``."""
        missing = [
            index for index, sample in enumerate(data_samples)
            if 'gt_value' not in sample
        ]
        if missing:
            raise KeyError(f'data samples {missing} have no gt_value; pack '
                           'them with PackRegressionInputs')
        return torch.cat([
            torch.as_tensor(sample.gt_value, dtype=torch.float32).reshape(-1)
            for sample in data_samples
        ])
