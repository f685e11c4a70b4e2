# Copyright (c) cgankd_plugin contributors.
"""Configs of the tiny teacher the hook and bank tests build.

A ResNet-8 classifier at 32x32 over 10 classes and the preprocessor it
reads 0-255 images through; the fixtures build them from their own seeds.
"""
NUM_CLASSES = 10

RESNET8_CLASSIFIER = dict(
    type='mmpretrain.ImageClassifier',
    backbone=dict(type='mmrazor.ResNetCIFAR', arch='resnet8'),
    neck=dict(type='mmpretrain.GlobalAveragePooling'),
    head=dict(
        type='mmpretrain.LinearClsHead',
        num_classes=NUM_CLASSES,
        in_channels=64))

CLS_PREPROCESSOR = dict(
    type='mmpretrain.ClsDataPreprocessor',
    num_classes=NUM_CLASSES,
    mean=[128.0] * 3,
    std=[64.0] * 3)
