# Copyright (c) cgankd_plugin contributors.
"""Generate, subsample, filter, relabel and store the synthetic bank.

The pipeline of cGAN-KD (Ding et al.), steps 2-5 of ``DESIGN.md``. The
bank is filled by *streams*: one per class for classification (class 0's
block of the bank, then class 1's, ...), one for the whole bank for
regression. Each stream is a sequence of chunks, each committed to disk
atomically:

1. the burn-in chunk: a burn-in draw per condition fixes the filter
   cut-offs (per class; pooled over the label grid for regression) and,
   with cDR-RS, each condition's largest density ratio ``M``; its
   candidates that pass the cut-off (and cDR-RS) are the stream's first
   accepted samples, so the burn-in is not thrown away (for regression
   the pooled burn-in is shuffled first, so a cut at the quota keeps a
   spread of labels);
2. rounds of candidates (for regression spread over the whole label
   grid), each subsampled (cDR-RS), filtered by the teacher and
   relabelled; their sizes follow the burn-in's acceptance, bounded by
   what the stream still needs (:class:`RoundSchedule`);
3. the chunks are assembled into the bank when every quota is full.

Every random draw is seeded from the build's seed and its place: the
burn-in of condition ``c`` from ``(seed, c)``, round ``k`` of class ``c``
from ``(seed, c, k)``, regression round ``r`` from ``(seed, r)``
(:mod:`.rng`). Round sizes depend only on the burn-in and on the chunks
already committed. So a build that was killed and restarted produces the
same bank, byte for byte, as one that was not, and so does a build split
over processes.

Distributed builds (``world_size > 1``): rank ``r`` draws the burn-in of
the conditions ``r, r + W, ...``; for classification it also runs those
classes' streams; for regression it draws the planned rounds ``r, r + W,
...`` (the plan depends on the pooled burn-in only, which every rank
reads). Rank 0 alone holds the :class:`BankWriter`: it fits cDR-RS, runs
its own share straight into the writer, takes the other ranks' rounds
from the staging folder (:class:`BankStaging`, which also names its
files) in the order a one-process build commits them, runs the rare
top-up rounds of regression, and finalizes. Nothing waits in a
collective: ranks poll files.

Modules: ``rng`` (the named streams, :func:`seeded`, :func:`to_uint8`),
``base`` (:class:`BaseBankBuilder`: what both tasks share, the writer's
and the helpers' roles), ``subsampling`` (its cDR-RS part: fit, load,
save, ratios), ``classification``
(:class:`ClassificationBankBuilder`, :func:`split_by_quota`) and
``regression`` (:class:`RegressionBankBuilder`). They replace the former
``cgankd_plugin/synthesis/bank_builder.py`` (``BankBuilder``): build with
:func:`make_bank_builder`, which takes the same arguments.
"""
import numpy as np
import torch

from .base import RELABEL_MODES, BaseBankBuilder
from .classification import ClassificationBankBuilder, split_by_quota
from .regression import RegressionBankBuilder
from .rng import seeded, to_uint8


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
            (``relabel``, ``subsample``, ``dre_cache``, ``rank``...).

    Returns:
        BaseBankBuilder: The builder, not yet run.
    """
    cls = (RegressionBankBuilder
           if gan.is_continuous else ClassificationBankBuilder)
    return cls(gan, teacher, num_fake, gan_labels, bank_labels, **kwargs)


__all__ = [
    'BaseBankBuilder', 'ClassificationBankBuilder', 'RELABEL_MODES',
    'RegressionBankBuilder', 'make_bank_builder', 'seeded',
    'split_by_quota', 'to_uint8'
]
