# Copyright (c) cgankd_plugin contributors.
"""The whole CIFAR zoo inside mmpretrain's ImageClassifier."""
import pytest
import torch

from cgankd_plugin.registry import MODELS

# (backbone config, total parameters in millions with a 100-class linear
# head), the sizes reported for RepDistiller's CIFAR-100 zoo.
ZOO = {
    'resnet8x4': (dict(type='ResNetCIFAR', arch='resnet8x4'), 1.234),
    'resnet32x4': (dict(type='ResNetCIFAR', arch='resnet32x4'), 7.434),
    'wrn_16_2': (dict(type='WRN', depth=16, widen_factor=2), 0.703),
    'wrn_40_2': (dict(type='WRN', depth=40, widen_factor=2), 2.255),
    'vgg8': (dict(type='VGGCIFAR', arch='vgg8'), 3.965),
    'vgg13': (dict(type='VGGCIFAR', arch='vgg13'), 9.462),
    'MobileNetV2': (dict(type='MobileNetV2CIFAR', width_mult=0.5), 0.813),
    'ShuffleNetV1': (dict(type='ShuffleNetV1CIFAR', groups=3), 0.949),
    'ShuffleNetV2': (dict(type='ShuffleNetV2CIFAR', net_size=1.0), 1.356),
    'ResNet50': (dict(type='ResNet50CIFAR'), 23.705),
}


def build_classifier(backbone_cfg):
    """An mmpretrain ImageClassifier around one of the zoo's backbones."""
    in_channels = MODELS.build(dict(backbone_cfg)).out_channels
    return MODELS.build(
        dict(
            type='mmpretrain.ImageClassifier',
            backbone=dict(
                backbone_cfg, type='mmrazor.' + backbone_cfg['type']),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead', num_classes=100,
                in_channels=in_channels)))


@pytest.mark.parametrize('name', list(ZOO))
def test_parameter_count_matches_repdistiller(name):
    backbone_cfg, expected_millions = ZOO[name]
    classifier = build_classifier(backbone_cfg)
    millions = sum(p.numel() for p in classifier.parameters()) / 1e6
    assert millions == pytest.approx(expected_millions, rel=0.01)


@pytest.mark.parametrize('name', list(ZOO))
def test_classifier_logits_for_32_and_36_pixel_inputs(name):
    classifier = build_classifier(ZOO[name][0]).eval()
    with torch.no_grad():
        for size in (32, 36):
            logits = classifier(torch.randn(2, 3, size, size), mode='tensor')
            assert logits.shape == (2, 100)
