# Copyright (c) cgankd_plugin contributors.
"""cDR-RS: conditional density-ratio estimation and rejection sampling.

Ding et al., "Efficient subsampling of realistic images from GANs
conditional on a class or a continuous variable". A small MLP on features
of a frozen, pre-trained CNN estimates the conditional density ratio
``r(x | y) = p_real(x | y) / p_fake(x | y)``; it is trained with the
penalised Softplus loss (:func:`penalized_softplus_loss`) by
:func:`fit_density_ratio`, which compares each step's real batch with
fresh fakes generated at its labels. Fake images are then kept with
probability ``r / M`` (:class:`RejectionSampler`), where ``M`` is the
largest ratio of a burn-in draw of the same condition (class or label
value), raised to every later batch's largest ratio.

The design follows the authors' code (``UBCDingXin/cDR-RS``,
``UBCDingXin/cGAN-KD``): the label is embedded (an ``nn.Embedding(C, C)``
for classes) and concatenated in front of the features; hidden layers are
Linear + GroupNorm(8) + ReLU + Dropout(0.5); the output goes through a
ReLU so the ratio is non-negative. Adam with ``betas=(0.5, 0.999)`` and
weight decay 1e-4, learning rate 1e-4 divided by 10 at epochs 80 and 150
of 200, batches of 256; real images flipped horizontally at random. For a
continuous label the authors feed the embedding of their CcGAN's label
network; here a label in ``[0, 1]`` goes through a small learned
``Linear(1, 128) + ReLU``.
"""
from .fitting import (DEFAULT_LR_DECAY_EPOCHS, FakeSource,
                      fit_density_ratio, predict_density_ratio)
from .model import DensityRatioMLP, penalized_softplus_loss
from .rejection import RejectionSampler, rejection_sample

__all__ = [
    'DEFAULT_LR_DECAY_EPOCHS', 'DensityRatioMLP', 'FakeSource',
    'RejectionSampler', 'fit_density_ratio', 'penalized_softplus_loss',
    'predict_density_ratio', 'rejection_sample'
]
