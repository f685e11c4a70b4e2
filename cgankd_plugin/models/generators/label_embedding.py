# Copyright (c) cgankd_plugin contributors.
"""MLP embedding of a continuous label, CcGAN's improved label input."""
import math

import torch
import torch.nn as nn


class LabelEmbedding(nn.Module):
    """Map a scalar label in [0, 1] to a vector ``h(y)`` in R^embed_dim.

    The improved CcGAN (Ding et al., ICLR 2021) feeds labels to G and D
    through ``y -> h(y)``, an MLP of Linear -> GroupNorm -> ReLU layers
    (their ``model_y2h``). There it is pre-trained and frozen; here each
    network owns one and learns it jointly, so no extra training stage is
    needed. The label the MLP sees is already ``y + noise``: CcGAN feeds
    its networks vicinity-perturbed target labels ``y + eps``,
    ``eps ~ N(0, sigma^2)``.

    Args:
        embed_dim (int): width of the embedding.
        hidden_dim (int): width of the hidden layers.
        num_hidden_layers (int): number of Linear -> GroupNorm -> ReLU layers
            before the output linear map.
    """

    def __init__(self,
                 embed_dim: int = 128,
                 hidden_dim: int = 128,
                 num_hidden_layers: int = 3) -> None:
        super().__init__()
        if num_hidden_layers < 1:
            raise ValueError('num_hidden_layers must be >= 1, got '
                             f'{num_hidden_layers}')
        self.embed_dim = embed_dim
        # CcGAN's y2h normalises 8 groups of 16 of its 128 hidden units;
        # keep >= 16 units a group (fewer make the normalised output of
        # the first, rank-one layer nearly independent of the label).
        groups = math.gcd(8, max(1, hidden_dim // 16))
        layers = []
        in_features = 1
        for _ in range(num_hidden_layers):
            layers += [
                nn.Linear(in_features, hidden_dim),
                nn.GroupNorm(groups, hidden_dim),
                nn.ReLU(),
            ]
            in_features = hidden_dim
        layers.append(nn.Linear(hidden_dim, embed_dim))
        self.mlp = nn.Sequential(*layers)

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        """Embed labels.

        Args:
            labels (torch.Tensor): (N,) or (N, 1) float labels.

        Returns:
            torch.Tensor: (N, embed_dim) embeddings.
        """
        return self.mlp(labels.reshape(-1, 1).float())
