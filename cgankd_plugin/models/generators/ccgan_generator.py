# Copyright (c) cgankd_plugin contributors.
"""SNGAN-style generator for continuous labels, as used by CcGAN."""
from typing import Optional

import torch

from cgankd_plugin.registry import MODELS
from .label_embedding import LabelEmbedding
from .residual_blocks import ResidualGenerator

# Width multipliers from the 4x4 input of the first up-block to the last
# block's output; 64 px is the SNGAN generator of CcGAN / cGAN-KD on
# UTKFace and SteeringAngle (16, 8, 4, 2, 1) x G_ch.
CCGAN_GENERATOR_WIDTHS = {
    32: (8, 4, 2, 1),
    64: (16, 8, 4, 2, 1),
}


@MODELS.register_module()
class CcGANGenerator(ResidualGenerator):
    """Continuous-conditional generator (SNGAN architecture, CcGAN input).

    The label goes through a :class:`LabelEmbedding` MLP and conditions
    every residual up-block's batch norms; the noise is linearly mapped to
    a 4x4 grid. Output head: BN -> ReLU -> 3x3 conv -> tanh. As in SNGAN,
    the generator has no spectral norm and uses Xavier init.

    Args:
        noise_dim (int): width of the noise vector.
        img_size (int): output resolution, 32 or 64.
        img_channels (int): output channels.
        base_channels (int): width multiplier (CcGAN's ``gene_ch``).
        label_embed_dim (int): width of the label embedding.
        label_hidden_layers (int): hidden layers of the label MLP.
        init_cfg (dict, optional): mmengine init config; weights are already
            initialised.
    """

    def __init__(self,
                 noise_dim: int = 128,
                 img_size: int = 64,
                 img_channels: int = 3,
                 base_channels: int = 64,
                 label_embed_dim: int = 128,
                 label_hidden_layers: int = 3,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if img_size not in CCGAN_GENERATOR_WIDTHS:
            raise ValueError(
                f'img_size must be one of '
                f'{sorted(CCGAN_GENERATOR_WIDTHS)}, got {img_size}')
        self.noise_dim = noise_dim
        self.img_size = img_size
        self.img_channels = img_channels
        self.label_embedding = LabelEmbedding(label_embed_dim, label_embed_dim,
                                              label_hidden_layers)
        self._build_trunk(
            [base_channels * m for m in CCGAN_GENERATOR_WIDTHS[img_size]],
            label_embed_dim,
            spectral_norm=False,
            init_type='xavier')

    def embed(self, labels: torch.Tensor) -> torch.Tensor:
        """The label MLP's vectors of (N,) float labels in [0, 1]."""
        return self.label_embedding(labels)
