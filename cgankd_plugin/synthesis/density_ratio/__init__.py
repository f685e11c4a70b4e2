# Copyright (c) cgankd_plugin contributors.
"""cDR-RS: conditional density-ratio estimation and rejection sampling.

Ding et al., "Efficient subsampling of realistic images from GANs
conditional on a class or a continuous variable". A small MLP on features
of a frozen, pre-trained CNN estimates the conditional density ratio
``r(x | y) = p_real(x | y) / p_fake(x | y)``; it is trained with the
penalised Softplus loss (:func:`penalized_softplus_loss`). Fake images are
then kept with probability ``r / M`` (:func:`rejection_sample`), where
``M`` is the largest ratio of a burn-in draw of the same condition (class
or label value; :func:`estimate_max_ratio`, :func:`estimate_max_ratios`).

The design follows the authors' code (``UBCDingXin/cDR-RS``): the label is
embedded (an ``nn.Embedding(C, C)`` for classes) and concatenated in front
of the features; hidden layers are Linear + GroupNorm(8) + ReLU + Dropout
(0.5); the output goes through a ReLU so the ratio is non-negative. Adam
with ``betas=(0.5, 0.999)`` and weight decay 1e-4, learning rate 1e-4
divided by 10 at epochs 150 and 250 of 350. For a continuous label the
authors feed the embedding of their CcGAN's label network; here a label in
``[0, 1]`` goes through a small learned ``Linear(1, 128) + ReLU``. In
every training step the authors generate the fakes at the real batch's
labels; here each real sample is paired with fakes generated beforehand at
its label (a class's fakes, or those generated for that real sample).
"""
from .fitting import fit_density_ratio, predict_density_ratio
from .model import DensityRatioMLP, penalized_softplus_loss
from .rejection import (estimate_max_ratio, estimate_max_ratios,
                        rejection_sample)

__all__ = [
    'DensityRatioMLP', 'estimate_max_ratio', 'estimate_max_ratios',
    'fit_density_ratio', 'penalized_softplus_loss', 'predict_density_ratio',
    'rejection_sample'
]
