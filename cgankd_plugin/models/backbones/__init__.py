# Copyright (c) cgankd_plugin contributors.
"""The CIFAR-100 teacher / student zoo of the CRD literature (RepDistiller).

Every backbone returns a tuple of stage outputs (``out_indices``, default
the last stage) and exposes ``out_channels`` for the classification head.
"""
from .base_cifar_backbone import BaseCIFARBackbone
from .mobilenetv2_cifar import MobileNetV2CIFAR
from .resnet50_cifar import ResNet50CIFAR
from .resnet_cifar import ResNetCIFAR
from .shufflenetv1_cifar import ShuffleNetV1CIFAR
from .shufflenetv2_cifar import ShuffleNetV2CIFAR
from .vgg_cifar import VGGCIFAR
from .wrn import WRN

__all__ = [
    'BaseCIFARBackbone', 'MobileNetV2CIFAR', 'ResNet50CIFAR', 'ResNetCIFAR',
    'ShuffleNetV1CIFAR', 'ShuffleNetV2CIFAR', 'VGGCIFAR', 'WRN'
]
