# Copyright (c) cgankd_plugin contributors.
"""BigGAN discriminator with a class projection (Miyato & Koyama, 2018)."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from cgankd_plugin.registry import MODELS
from .residual_blocks import residual_down_blocks
from .sn_layers import init_layer

# (width multipliers of the blocks' outputs, whether each downsamples):
# BigGAN's D_arch; 32 px is its CIFAR architecture.
DISCRIMINATOR_ARCHS = {
    32: ((4, 4, 4, 4), (True, True, False, False)),
    64: ((1, 2, 4, 8, 16), (True, True, True, True, False)),
    128: ((1, 2, 4, 8, 16, 16), (True, True, True, True, True, False)),
}


@MODELS.register_module()
class ProjectionDiscriminator(BaseModule):
    """Class-conditional projection discriminator (BigGAN's D).

    Residual down-blocks, ReLU, global sum pooling to a feature vector
    ``phi(x)``, then ``D(x, y) = w^T phi(x) + embed(y)^T phi(x)``. Every
    conv, the linear head and the class embedding are spectrally
    normalised and initialised ``'N02'``.

    Args:
        num_classes (int): number of classes.
        img_size (int): input resolution, 32, 64 or 128.
        img_channels (int): input channels.
        base_channels (int): width multiplier (BigGAN's ``D_ch``).
        init_cfg (dict, optional): mmengine init config; weights are already
            initialised.
    """

    def __init__(self,
                 num_classes: int,
                 img_size: int = 32,
                 img_channels: int = 3,
                 base_channels: int = 64,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if img_size not in DISCRIMINATOR_ARCHS:
            raise ValueError(f'img_size must be one of '
                             f'{sorted(DISCRIMINATOR_ARCHS)}, got {img_size}')
        self.num_classes = num_classes
        self.img_size = img_size
        self.img_channels = img_channels
        multipliers, downsamples = DISCRIMINATOR_ARCHS[img_size]
        widths = [img_channels] + [base_channels * m for m in multipliers]
        self.blocks = residual_down_blocks(widths, downsamples, 'N02')
        self.linear = init_layer(nn.Linear(widths[-1], 1))
        self.class_embedding = init_layer(
            nn.Embedding(num_classes, widths[-1]))

    def forward(self, images: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """Score images given their classes.

        Args:
            images (torch.Tensor): (N, img_channels, img_size, img_size) in
                [-1, 1].
            labels (torch.Tensor): (N,) class indices (long).

        Returns:
            torch.Tensor: (N,) unbounded realness scores.
        """
        features = F.relu(self.blocks(images)).sum(dim=(2, 3))
        projection = (self.class_embedding(labels) * features).sum(dim=1)
        return self.linear(features).squeeze(1) + projection
