# Copyright (c) cgankd_plugin contributors.
"""The cDR-RS density-ratio network and its penalised Softplus loss."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

DEFAULT_HIDDEN_DIMS = (2048, 1024, 512, 256, 128)  # the official "MLP5"
DEFAULT_CONTINUOUS_EMBED_DIM = 128


class DensityRatioMLP(nn.Module):
    """Conditional density-ratio model on CNN features (official cDR_MLP).

    Args:
        feat_dim (int): Dimension of the input features.
        num_classes (int, optional): Number of classes for a class label; None
            for a continuous label in ``[0, 1]``.
        hidden_dims (Sequence[int]): Width of each hidden layer (multiples of
            ``num_groups``, or ``nn.GroupNorm`` raises).
        dropout (float): Dropout probability after every hidden layer.
        embed_dim (int, optional): Size of the label embedding. Defaults to
            ``num_classes`` for classes (official) and 128 for a continuous
            label.
        num_groups (int): GroupNorm groups of every hidden layer.
    """

    def __init__(self,
                 feat_dim: int,
                 num_classes: Optional[int] = None,
                 hidden_dims: Sequence[int] = DEFAULT_HIDDEN_DIMS,
                 dropout: float = 0.5,
                 embed_dim: Optional[int] = None,
                 num_groups: int = 8) -> None:
        super().__init__()
        self.feat_dim = int(feat_dim)
        self.num_classes = num_classes
        if embed_dim is None:
            embed_dim = (DEFAULT_CONTINUOUS_EMBED_DIM
                         if num_classes is None else num_classes)
        embed_dim = int(embed_dim)
        if num_classes is not None:
            self.label_embed = nn.Embedding(num_classes, embed_dim)
        else:
            self.label_embed = nn.Sequential(nn.Linear(1, embed_dim),
                                             nn.ReLU())
        in_dim = self.feat_dim + embed_dim
        layers = []
        for width in hidden_dims:
            layers += [
                nn.Linear(in_dim, width),
                nn.GroupNorm(num_groups, width),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout),
            ]
            in_dim = width
        layers += [nn.Linear(in_dim, 1), nn.ReLU()]
        self.main = nn.Sequential(*layers)

    def embed(self, labels: Tensor) -> Tensor:
        """Embed class indices ``(N,)`` or continuous labels ``(N,)``."""
        if self.num_classes is not None:
            return self.label_embed(labels.long().view(-1))
        return self.label_embed(labels.float().view(-1, 1))

    def forward(self, feats: Tensor, labels: Tensor) -> Tensor:
        """Return the density ratios ``(N,)`` (non-negative).

        Args:
            feats (torch.Tensor): ``(N, feat_dim)`` features (flattened if more
                dims).
            labels (torch.Tensor): ``(N,)`` class indices or continuous labels.
        """
        feats = feats.flatten(1)
        if feats.shape[1] != self.feat_dim:
            raise ValueError(f'feats must have {self.feat_dim} features, '
                             f'got shape {tuple(feats.shape)}')
        x = torch.cat([self.embed(labels).to(feats.dtype), feats], dim=1)
        return self.main(x).view(-1)


def penalized_softplus_loss(ratio_real: Tensor,
                            ratio_fake: Tensor,
                            penalty: float = 0.01) -> Tensor:
    """Penalised Softplus density-ratio loss of cDR-RS.

    With ``r`` the estimated ratio, ``sigma`` the sigmoid and ``eta`` the
    Softplus::

        L = E_fake[sigma(r) r - eta(r)] - E_real[sigma(r)]
            + penalty * (E_fake[r] - 1) ** 2

    The penalty keeps the ratio of fake samples averaging 1 (the ratio
    integrates to 1 under the fake density), which stops the model from
    assigning 0 to every fake sample.

    Args:
        ratio_real (torch.Tensor): Ratios of real samples, any shape.
        ratio_fake (torch.Tensor): Ratios of fake samples, any shape.
        penalty (float): Weight ``lambda`` of the penalty.

    Returns:
        torch.Tensor: The scalar loss.
    """
    sp_div = (torch.mean(torch.sigmoid(ratio_fake) * ratio_fake) -
              torch.mean(F.softplus(ratio_fake)) -
              torch.mean(torch.sigmoid(ratio_real)))
    return sp_div + penalty * (torch.mean(ratio_fake) - 1)**2
