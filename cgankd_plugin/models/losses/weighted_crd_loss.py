# Copyright (c) cgankd_plugin contributors.
"""mmrazor's CRD loss with its ``loss_weight`` applied."""
from mmrazor.models.losses import CRDLoss

from ...registry import MODELS


@MODELS.register_module()
class WeightedCRDLoss(CRDLoss):
    """``CRDLoss`` that multiplies by ``loss_weight``.

    mmrazor 1.0.0's ``CRDLoss`` stores ``loss_weight`` but never applies it,
    so the RepDistiller weight (0.8 on CIFAR-100) has no effect there.
    """

    def forward(self, s_feats, t_feats, data_samples):
        """Weighted contrastive loss; arguments as ``CRDLoss.forward``."""
        return self.loss_weight * super().forward(s_feats, t_feats,
                                                  data_samples)
