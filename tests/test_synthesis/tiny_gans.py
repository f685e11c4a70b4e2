# Copyright (c) cgankd_plugin contributors.
"""The tiny (untrained) cGANs and teachers the bank tests build with.

At 32x32 with 10 classes: a width-4 BigGAN and a ResNet-8 classifier; for
regression a width-4 CcGAN and a ResNet-8 regressor whose outputs spread
over tens of years (ages in [0, 60]), so every label value has samples on
both sides of a cut-off. Each is built from a fixed seed, so every
process builds the same weights.
"""
import copy

import torch
from tiny_models import CLS_PREPROCESSOR, NUM_CLASSES, RESNET8_CLASSIFIER

from cgankd_plugin.registry import MODELS


def tiny_gan():
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='ClassConditionalGAN',
            num_classes=NUM_CLASSES,
            img_size=32,
            noise_dim=16,
            generator=dict(
                type='BigGANGenerator', base_channels=4, shared_dim=8),
            discriminator=dict(type='ProjectionDiscriminator',
                               base_channels=4),
            ema_config=dict(momentum=0.9, start_iter=1))).eval()


def tiny_teacher():
    torch.manual_seed(1)
    return MODELS.build(
        copy.deepcopy(
            dict(RESNET8_CLASSIFIER,
                 data_preprocessor=CLS_PREPROCESSOR))).eval()


def tiny_ccgan():
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='ContinuousConditionalGAN',
            img_size=32,
            noise_dim=8,
            generator=dict(
                type='CcGANGenerator', base_channels=4, label_embed_dim=8),
            discriminator=dict(
                type='CcGANDiscriminator', base_channels=4,
                label_embed_dim=8))).eval()


def tiny_regressor():
    torch.manual_seed(1)
    model = MODELS.build(
        dict(
            type='mmpretrain.ImageClassifier',
            backbone=dict(type='mmrazor.ResNetCIFAR', arch='resnet8'),
            neck=dict(type='mmpretrain.GlobalAveragePooling'),
            head=dict(
                type='mmrazor.RegressionHead',
                in_channels=64,
                label_range=(0.0, 60.0)),
            data_preprocessor=dict(
                type='mmpretrain.ClsDataPreprocessor',
                mean=[127.5] * 3,
                std=[127.5] * 3)))
    with torch.no_grad():
        model.head.fc.weight.normal_(0, 20.0)
        model.head.fc.bias.fill_(0.5)
    return model.eval()
