# Copyright (c) cgankd_plugin contributors.
"""SNGAN-style projection discriminator for continuous labels (CcGAN)."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from cgankd_plugin.registry import MODELS
from .label_embedding import LabelEmbedding
from .residual_blocks import residual_down_blocks
from .sn_layers import init_layer

CCGAN_IMAGE_SIZES = (32, 64)


@MODELS.register_module()
class CcGANDiscriminator(BaseModule):
    """Continuous-conditional discriminator (SNGAN architecture).

    Residual down-blocks doubling the width at each halving down to 4x4
    (``base_channels`` x 1, 2, 4, 8 at 64 px), one more stride-1 block
    doubling it again, ReLU, then the flattened 4x4 features ``phi(x)``
    are scored as ``w^T phi(x) + (V h(y))^T phi(x)`` with ``h`` a
    :class:`LabelEmbedding`. Convs, ``w`` and ``V`` are spectrally
    normalised.

    Args:
        img_size (int): input resolution, 32 or 64.
        img_channels (int): input channels.
        base_channels (int): width multiplier (CcGAN's ``disc_ch``).
        label_embed_dim (int): width of the label embedding.
        label_hidden_layers (int): hidden layers of the label MLP.
        init_cfg (dict, optional): mmengine init config; weights are already
            initialised.
    """

    def __init__(self,
                 img_size: int = 64,
                 img_channels: int = 3,
                 base_channels: int = 64,
                 label_embed_dim: int = 128,
                 label_hidden_layers: int = 3,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if img_size not in CCGAN_IMAGE_SIZES:
            raise ValueError(f'img_size must be one of {CCGAN_IMAGE_SIZES}, '
                             f'got {img_size}')
        self.img_size = img_size
        self.img_channels = img_channels
        num_downsamples = (img_size // 4).bit_length() - 1
        widths = [img_channels] + [
            base_channels * 2**i for i in range(num_downsamples + 1)
        ]
        self.blocks = residual_down_blocks(
            widths, [i < num_downsamples for i in range(len(widths) - 1)],
            'xavier')
        self.feature_dim = widths[-1] * 4 * 4
        self.label_embedding = LabelEmbedding(label_embed_dim, label_embed_dim,
                                              label_hidden_layers)
        self.linear = init_layer(
            nn.Linear(self.feature_dim, 1), init_type='xavier')
        self.label_projection = init_layer(
            nn.Linear(label_embed_dim, self.feature_dim, bias=False),
            init_type='xavier')

    def forward(self, images: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """Score images given their (target) labels.

        Args:
            images (torch.Tensor): (N, img_channels, img_size, img_size) in
                [-1, 1].
            labels (torch.Tensor): (N,) float labels.

        Returns:
            torch.Tensor: (N,) unbounded realness scores.
        """
        features = F.relu(self.blocks(images)).flatten(1)
        label_vectors = self.label_projection(self.label_embedding(labels))
        projection = (features * label_vectors).sum(dim=1)
        return self.linear(features).squeeze(1) + projection
