# Copyright (c) cgankd_plugin contributors.
"""Conditional GANs that generate cGAN-KD's synthetic training samples."""
from .base_conditional_gan import BaseConditionalGAN
from .biggan_generator import BigGANGenerator
from .ccgan_discriminator import CcGANDiscriminator
from .ccgan_generator import CcGANGenerator
from .class_conditional_gan import ClassConditionalGAN
from .conditional_batch_norm import ConditionalBatchNorm2d
from .continuous_conditional_gan import ContinuousConditionalGAN
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .diff_augment import diff_augment
from .discriminator_batch import DiscriminatorBatch
from .ema import DEFAULT_EMA_CONFIG, build_generator_ema
from .gan_data_preprocessor import ConditionalGANDataPreprocessor
from .gan_losses import hinge_discriminator_loss, hinge_generator_loss
from .label_embedding import LabelEmbedding
from .projection_discriminator import ProjectionDiscriminator
from .real_image_pool import RealImagePool
from .residual_blocks import ResidualDownBlock, ResidualUpBlock
from .sn_layers import has_spectral_norm
from .vicinity import (draw_vicinal_batch, rule_of_thumb_kappa,
                       rule_of_thumb_sigma, soft_nu, soft_vicinal_weights,
                       vicinity_bounds)

__all__ = [
    'DEFAULT_EMA_CONFIG', 'BaseConditionalGAN', 'BigGANGenerator',
    'CcGANDiscriminator', 'CcGANGenerator', 'ClassConditionalGAN',
    'ConditionalBatchNorm2d', 'ConditionalGANDataPreprocessor',
    'ContinuousConditionalGAN', 'DCGANDiscriminator', 'DCGANGenerator',
    'DiscriminatorBatch', 'LabelEmbedding', 'ProjectionDiscriminator',
    'RealImagePool', 'ResidualDownBlock', 'ResidualUpBlock',
    'build_generator_ema', 'diff_augment', 'draw_vicinal_batch',
    'has_spectral_norm', 'hinge_discriminator_loss', 'hinge_generator_loss',
    'rule_of_thumb_kappa', 'rule_of_thumb_sigma', 'soft_nu',
    'soft_vicinal_weights', 'vicinity_bounds'
]
