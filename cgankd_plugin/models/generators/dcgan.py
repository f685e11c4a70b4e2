# Copyright (c) cgankd_plugin contributors.
"""Small conditional DCGAN networks, for CPU runs and 28 px images.

They follow DCGAN (Radford et al., 2016): strided (transposed) 4x4
convolutions, batch norm in G, no residual blocks, about 50 times faster
than BigGAN on a CPU. D is a projection discriminator (Miyato & Koyama,
2018) with spectral norm.

The condition is a class index when ``num_classes`` is given (for
:class:`ClassConditionalGAN`) and a continuous label in [0, 1] otherwise
(for :class:`ContinuousConditionalGAN`, embedded by CcGAN's label MLP).
"""
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from cgankd_plugin.registry import MODELS
from .conditional_batch_norm import ConditionalBatchNorm2d
from .label_embedding import LabelEmbedding
from .sn_layers import init_layer

# The smallest feature map: halve the image until it is at most this.
MAX_BASE_SIZE = 7


def _halvings(img_size: int) -> int:
    """How many stride-2 stages lead from the image to the base map.

    28 -> 14 -> 7 (2), 32 -> 16 -> 8 -> 4 (3), 64 -> ... -> 4 (4).
    """
    if img_size < 8 or img_size % 4:
        raise ValueError('img_size must be a multiple of 4 and at least 8, '
                         f'got {img_size}')
    count, size = 0, img_size
    while size > MAX_BASE_SIZE:
        if size % 2:
            raise ValueError(f'img_size {img_size} cannot be halved down '
                             f'to at most {MAX_BASE_SIZE} pixels')
        size //= 2
        count += 1
    return count


def _condition_embedding(num_classes: Optional[int], embed_dim: int,
                         spectral_norm: bool) -> nn.Module:
    """A class table (``num_classes``) or a continuous-label MLP (None)."""
    if num_classes is None:
        return LabelEmbedding(embed_dim, embed_dim)
    return init_layer(nn.Embedding(num_classes, embed_dim), spectral_norm)


@MODELS.register_module()
class DCGANGenerator(BaseModule):
    """Conditional DCGAN generator.

    The noise joined to the condition's embedding is mapped linearly to a
    ``base_size`` x ``base_size`` map of ``base_channels * 2**(k-1)``
    channels (``k`` stride-2 stages, e.g. 7 px and k = 2 for 28 px), then
    each stage is BN -> ReLU -> 4x4 transposed conv halving the width and
    doubling the size; the last maps to ``img_channels`` and ends in tanh.
    With ``conditional_norm`` every BN is class-conditional (its gain and
    bias linear in the condition's embedding, as in BigGAN and SNGAN's
    generators), so the condition steers every stage, not only the input.

    Args:
        noise_dim (int): width of the noise vector.
        img_size (int): output resolution: a multiple of 4, halved down to at
            most 7 pixels (28, 32, 64, ...).
        img_channels (int): output channels.
        base_channels (int): width of the last hidden stage.
        num_classes (int, optional): number of classes; None for a continuous
            label.
        embed_dim (int): width of the condition embedding.
        conditional_norm (bool): class-conditional batch norm in every
            stage (``ConditionalBatchNorm2d``) instead of plain BN.
        init_cfg (dict, optional): mmengine init config; weights are already
            initialised.
    """

    def __init__(self,
                 noise_dim: int = 64,
                 img_size: int = 28,
                 img_channels: int = 1,
                 base_channels: int = 32,
                 num_classes: Optional[int] = None,
                 embed_dim: int = 32,
                 conditional_norm: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        stages = _halvings(img_size)
        self.noise_dim = noise_dim
        self.img_size = img_size
        self.img_channels = img_channels
        self.base_size = img_size >> stages
        self.embedding = _condition_embedding(
            num_classes, embed_dim, spectral_norm=False)
        widths: List[int] = [
            base_channels * 2**i for i in reversed(range(stages))
        ]
        self.linear = init_layer(
            nn.Linear(noise_dim + embed_dim, widths[0] * self.base_size**2),
            spectral_norm=False)
        layers: List[nn.Module] = []
        for i, width in enumerate(widths):
            out = widths[i + 1] if i + 1 < stages else img_channels
            up = init_layer(
                nn.ConvTranspose2d(width, out, 4, stride=2, padding=1),
                spectral_norm=False)
            norm = ConditionalBatchNorm2d(
                width, embed_dim, spectral_norm=False
            ) if conditional_norm else nn.BatchNorm2d(width)
            layers += [norm, nn.ReLU(), up]
        self.blocks = nn.Sequential(*layers)
        self.first_width = widths[0]

    def forward(self, noise: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """Generate images.

        Args:
            noise (torch.Tensor): (N, noise_dim) latent vectors.
            labels (torch.Tensor): (N,) class indices (long) or labels in
                [0, 1] (float).

        Returns:
            torch.Tensor: (N, img_channels, img_size, img_size) images in
                [-1, 1].
        """
        condition = self.embedding(labels)
        h = self.linear(torch.cat([noise, condition], dim=1))
        h = h.view(-1, self.first_width, self.base_size, self.base_size)
        for layer in self.blocks:
            h = layer(h, condition) if isinstance(
                layer, ConditionalBatchNorm2d) else layer(h)
        return torch.tanh(h)


@MODELS.register_module()
class DCGANDiscriminator(BaseModule):
    """Conditional DCGAN discriminator with a projection head.

    ``k`` stride-2 4x4 convolutions (each followed by LeakyReLU 0.2)
    double the width from ``base_channels`` while halving the image to the
    base map, each stage led by ``extra_convs`` 3x3 stride-1 convolutions
    at its input width (a deeper D at the same resolution); its flattened
    features ``phi(x)`` are scored as
    ``w^T phi(x) + e(y)^T phi(x)``, ``e(y)`` a class's row of an
    embedding table, or for a continuous label ``V h(y)`` with ``h`` CcGAN's
    label MLP. All layers but the MLP's are spectrally normalised.

    Args:
        img_size (int): input resolution (as :class:`DCGANGenerator`).
        img_channels (int): input channels.
        base_channels (int): width of the first stage.
        num_classes (int, optional): number of classes; None for a continuous
            label.
        embed_dim (int): width of a continuous label's MLP embedding ``h(y)``.
        extra_convs (int): 3x3 stride-1 convolutions before each stride-2
            one (the first stage's, which sees the image, excepted).
        init_cfg (dict, optional): mmengine init config; weights are already
            initialised.
    """

    def __init__(self,
                 img_size: int = 28,
                 img_channels: int = 1,
                 base_channels: int = 32,
                 num_classes: Optional[int] = None,
                 embed_dim: int = 32,
                 extra_convs: int = 0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        stages = _halvings(img_size)
        self.img_size = img_size
        self.img_channels = img_channels
        widths = [img_channels]
        widths += [base_channels * 2**i for i in range(stages)]
        convs: List[nn.Module] = []
        for i in range(stages):
            convs += [
                init_layer(nn.Conv2d(widths[i], widths[i], 3, padding=1))
                for _ in range(extra_convs if i else 0)
            ]
            convs.append(
                init_layer(
                    nn.Conv2d(widths[i], widths[i + 1], 4, stride=2,
                              padding=1)))
        self.convs = nn.ModuleList(convs)
        feature_dim = widths[-1] * (img_size >> stages)**2
        self.linear = init_layer(nn.Linear(feature_dim, 1))
        if num_classes is None:
            self.embedding = nn.Sequential(
                LabelEmbedding(embed_dim, embed_dim),
                init_layer(nn.Linear(embed_dim, feature_dim, bias=False)))
        else:
            # SNGAN's projection: one feature-sized vector per class
            self.embedding = _condition_embedding(
                num_classes, feature_dim, spectral_norm=True)

    def forward(self, images: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """Score images given their conditions.

        Args:
            images (torch.Tensor): (N, img_channels, img_size, img_size) in
                [-1, 1].
            labels (torch.Tensor): (N,) class indices (long) or labels in
                [0, 1] (float).

        Returns:
            torch.Tensor: (N,) unbounded realness scores.
        """
        h = images
        for conv in self.convs:
            h = F.leaky_relu(conv(h), 0.2)
        features = h.flatten(1)
        condition = self.embedding(labels)
        return (self.linear(features).squeeze(1) +
                (features * condition).sum(dim=1))
