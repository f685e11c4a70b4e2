# Copyright (c) cgankd_plugin contributors.
"""Generate, subsample, filter, relabel and store the synthetic bank.

The pipeline of cGAN-KD (Ding et al.): a burn-in draw per condition (with
cDR-RS, through its sampler, whose bound ``M`` a draw of its own starts)
fixes the filter's cut-offs, and its survivors open the condition's block
of the bank; rounds of candidates, sized on what the
block still needs, are subsampled (cDR-RS), filtered by the teacher and
relabelled until the block is full. The conditions are split over the
ranks of a distributed run, each condition's block is written as one
shard, and rank 0 assembles the shards into the bank (``base``).

Modules: ``rng`` (the named random streams, :func:`seeded`,
:func:`to_uint8`), ``base`` (:class:`BaseBankBuilder`: the phases, their
files and barriers), ``sampling`` (the draws and one condition's shard:
burn-in, then rounds sized by :func:`plan_rounds`, :func:`top_up_size`),
``subsampling`` (cDR-RS: fit, load, save, ratios, bounds,
:func:`subsample_settings`, :func:`dre_cache_file`), ``classification``
(:class:`ClassificationBankBuilder`) and ``regression``
(:class:`RegressionBankBuilder`). Build with :func:`make_bank_builder`.
"""
import numpy as np
import torch

from .base import RELABEL_MODES, BaseBankBuilder
from .classification import ClassificationBankBuilder
from .regression import RegressionBankBuilder
from .rng import seeded, to_uint8
from .sampling import plan_rounds, top_up_size
from .subsampling import dre_cache_file, subsample_settings


def make_bank_builder(gan, teacher, num_fake: int, gan_labels: torch.Tensor,
                      bank_labels: np.ndarray, **kwargs) -> BaseBankBuilder:
    """The bank builder for ``gan``'s task.

    Args:
        gan (BaseConditionalGAN): A ``ClassConditionalGAN`` (a
            :class:`ClassificationBankBuilder`) or a
            ``ContinuousConditionalGAN`` (``gan.is_continuous``: a
            :class:`RegressionBankBuilder`).
        teacher (TeacherAdapter): The filtering network.
        num_fake (int): Exactly this many samples end up in the bank.
        gan_labels (torch.Tensor): The conditions, as the GAN takes them.
        bank_labels (np.ndarray): The same conditions as stored in the bank.
        **kwargs: The other arguments of :class:`BaseBankBuilder`
            (``relabel``, ``subsample``, ``filter_quantile``,
            ``filter_threshold``, ``burn_in``, ``batch_size``, ``seed``,
            ``max_rounds_per_condition``, ``log``, ``rank``,
            ``world_size``, ``dre_cache``).

    Returns:
        BaseBankBuilder: The builder, not yet run; call its
        :meth:`~BaseBankBuilder.build` on every rank.
    """
    cls = (RegressionBankBuilder
           if gan.is_continuous else ClassificationBankBuilder)
    return cls(gan, teacher, num_fake, gan_labels, bank_labels, **kwargs)


__all__ = [
    'BaseBankBuilder', 'ClassificationBankBuilder', 'RELABEL_MODES',
    'RegressionBankBuilder', 'dre_cache_file', 'make_bank_builder',
    'plan_rounds', 'seeded', 'subsample_settings', 'to_uint8',
    'top_up_size'
]
