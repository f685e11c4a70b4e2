# Copyright (c) cgankd_plugin contributors.
"""What a bank build did, in figures: each step's acceptance, relabelling.

Three figures, each on its own denominator: ``cdrrs_acceptance`` (the
candidates cDR-RS kept, of those drawn), ``filter_pass_rate`` (the samples
the filter passed, of those it saw: cDR-RS's survivors) and
``over_generation`` (candidates drawn per sample stored; it also counts
samples that passed both but were not needed, as a full quota drops the
rest of its last round). For a classification bank relabelled by the
teacher, the share of samples whose label the teacher changed, and a
check that its labels do not crowd into few classes
(:func:`label_collapse`).
"""
import math
from typing import Dict, Optional, Sequence

import numpy as np

from ..conditions import condition_name

#: A bank's figures in its meta (:func:`meta_figures`).
FIGURES = ('num_samples', 'candidates', 'over_generation', 'cdrrs_acceptance',
           'filter_pass_rate', 'relabel_changed')
#: A class holding more than this many times its fair share
#: (``num_fake / num_classes``) of the teacher's labels is a collapse ...
COLLAPSE_SHARE = 5.0
#: ... and so are labels whose entropy is under this share of log(C).
COLLAPSE_ENTROPY = 0.5


def label_collapse(counts: np.ndarray) -> Optional[dict]:
    """Whether the teacher's labels crowd into few classes.

    Args:
        counts (np.ndarray): Samples per teacher label (one per class).

    Returns:
        dict, optional: None when the labels are spread; else the crowded
        ``classes`` (over :data:`COLLAPSE_SHARE` times the ``fair_share``;
        the three largest when only the entropy is low), their
        ``shares`` and ``entropy_ratio`` (the labels' entropy over
        ``log(C)``).
    """
    counts = np.asarray(counts, np.float64)
    shares = counts / counts.sum()
    fair = 1.0 / len(counts)
    used = shares[shares > 0]
    entropy = max(0.0, float(-(used * np.log(used)).sum()))
    ratio = entropy / math.log(len(counts)) if len(counts) > 1 else 1.0
    crowded = np.flatnonzero(shares > COLLAPSE_SHARE * fair)
    if not len(crowded) and ratio >= COLLAPSE_ENTROPY:
        return None
    if not len(crowded):
        crowded = np.argsort(-shares, kind='stable')[:3]
    crowded = crowded[np.argsort(-shares[crowded], kind='stable')]
    return dict(
        classes=[int(c) for c in crowded],
        shares=[round(float(shares[c]), 4) for c in crowded],
        fair_share=round(fair, 4),
        entropy_ratio=round(ratio, 4))


def collapse_message(collapse: dict,
                     class_names: Optional[Sequence[str]] = None) -> str:
    """A warning naming the crowded classes and their shares."""
    held = ', '.join(
        f'class {condition_name(c, class_names)} holds {share:.1%}'
        for c, share in zip(collapse['classes'], collapse['shares']))
    return (
        "the teacher's labels of the bank crowd into few classes: "
        f'{held} of the samples (a fair share is '
        f'{collapse["fair_share"]:.1%}; their entropy is '
        f'{collapse["entropy_ratio"]:.2f} of its largest, log(C)). Check '
        'teacher_ckpt and the teacher view (do they agree with the real '
        "test set?) and the cGAN's samples; relabel='none' keeps the "
        'generating classes.')


def meta_figures(meta: Dict) -> Dict[str, Optional[float]]:
    """A bank's :data:`FIGURES` from its meta (None: not recorded).

    A bank built before the figures were named so records only
    ``acceptance_rate``, samples per candidate: its over-generation is
    the inverse.
    """
    figures = {name: meta.get(name) for name in FIGURES}
    if figures['over_generation'] is None and meta.get('acceptance_rate'):
        figures['over_generation'] = round(1 / meta['acceptance_rate'], 4)
    return figures


def describe(meta: Dict) -> str:
    """The figures of a bank's meta in words (what is there of them)."""
    meta = meta_figures(meta)
    parts = []
    if meta.get('over_generation') is not None:
        parts.append(f'{meta["over_generation"]:.2f} candidates per sample')
    if meta.get('cdrrs_acceptance') is not None:
        parts.append(f'cDR-RS kept {meta["cdrrs_acceptance"]:.1%}')
    if meta.get('filter_pass_rate') is not None:
        parts.append(f'the filter passed {meta["filter_pass_rate"]:.1%}')
    if meta.get('relabel_changed') is not None:
        parts.append(f'the teacher relabelled {meta["relabel_changed"]:.1%}')
    return ', '.join(parts)


class BuildTally:
    """The figures of a bank, summed over its shards as they are read.

    Args:
        num_classes (int, optional): Classification: the classes (the
            teacher's labels are counted); None: regression.
    """

    def __init__(self, num_classes: Optional[int]) -> None:
        self.candidates = 0
        # kept by cDR-RS, seen by the filter, passed by the filter
        self.steps = np.zeros(3, np.int64)
        self.changed = 0
        self.counts = (np.zeros(num_classes, np.int64)
                       if num_classes else None)

    def add(self, shard: Dict[str, np.ndarray]) -> None:
        """Count one condition's shard (its ``rounds`` and ``tally``)."""
        self.candidates += int(shard['rounds'][:, 0].sum())
        self.steps += shard['tally']
        if self.counts is not None:
            labels = shard['teacher_labels']
            self.changed += int(np.sum(labels != shard['cond_labels']))
            self.counts += np.bincount(labels, minlength=len(self.counts))

    def figures(self, num_fake: int, subsampled: bool,
                relabel: str) -> dict:
        """The figures for the bank's meta.

        Args:
            num_fake (int): Samples in the bank.
            subsampled (bool): Whether cDR-RS ran.
            relabel (str): The bank's relabelling.

        Returns:
            dict: ``candidates``, ``over_generation``, ``cdrrs_acceptance``
            (None without cDR-RS), ``filter_pass_rate``; classification
            adds ``relabel_changed`` and, when relabelled,
            ``label_collapse`` (None: none).
        """
        kept, seen, passed = (int(n) for n in self.steps)
        out = dict(
            candidates=self.candidates,
            over_generation=round(self.candidates / num_fake, 4),
            cdrrs_acceptance=(round(kept / self.candidates, 4)
                              if subsampled else None),
            filter_pass_rate=round(passed / seen, 4) if seen else None)
        if self.counts is not None:
            out['relabel_changed'] = round(self.changed / num_fake, 4)
            if relabel != 'none':
                out['label_collapse'] = label_collapse(self.counts)
        return out
