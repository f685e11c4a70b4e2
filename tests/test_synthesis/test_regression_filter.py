# Copyright (c) cgankd_plugin contributors.
"""RegressionBankBuilder: a tiny CcGAN, a tiny regression teacher.

The regression filter of cGAN-KD: the 0.7 quantile of |teacher - label| on
a burn-in draw pooled over every label value is the one cut-off; a sample
is kept iff its error is at or under it, and is stored with its label in
original units and the teacher's prediction as its target. The bank holds
one block per label value: its burn-in survivors, then rounds at that
value. cDR-RS for a continuous label compares each real image with fakes
generated at its own label and bounds the ratios by one ``M`` per label
value. Everything runs on one thread at 32x32 (a width-4 CcGAN, a ResNet-8
teacher).
"""
import numpy as np
import pytest
import torch

from cgankd_plugin.synthesis import (SyntheticBank, TeacherAdapter,
                                     make_bank_builder)
from cgankd_plugin.synthesis.builder import subsampling
from cgankd_plugin.synthesis.builder.rng import (BURN_IN_STREAM,
                                                 ROUND_STREAM, seeded,
                                                 to_uint8)
from cgankd_plugin.synthesis.conditions import (label_grid_range,
                                                normalisation_range)
from cgankd_plugin.synthesis.layout import quotas_by_acceptance
from cgankd_plugin.structures import TensorImages

AGES = np.linspace(1.0, 60.0, 4).astype(np.float32)  # 1, 20.67, 40.33, 60
NORM = 60.0  # UTKFace's official normalisation: age / 60
LABEL_RANGE = (1.0, 60.0)
NUM_FAKE = 60  # 15 a label value, about the burn-in's survivors
QUANTILE = 0.7
BURN_IN = 16
BATCH = 8


# here the cGAN is the CcGAN and the teacher the regressor (conftest.py)
@pytest.fixture(scope='module')
def gan(ccgan):
    return ccgan


@pytest.fixture(scope='module')
def teacher(regressor):
    return regressor


def make_builder(gan, teacher, num_fake=NUM_FAKE, **kwargs):
    return make_bank_builder(
        gan,
        TeacherAdapter(teacher),
        num_fake,
        gan_labels=torch.from_numpy(AGES / NORM),
        bank_labels=AGES,
        filter_quantile=QUANTILE,
        burn_in=BURN_IN,
        batch_size=BATCH,
        seed=0,
        max_rounds_per_condition=50,
        log=lambda line: None,
        **kwargs)


@pytest.fixture(scope='module')
def built(gan, teacher, tmp_path_factory):
    builder = make_builder(gan, teacher)
    bank_dir = str(tmp_path_factory.mktemp('bank'))
    builder.build(bank_dir, 'key', dict(test=True))
    return builder, SyntheticBank.open(bank_dir, verify=True)


def test_the_cut_off_is_the_pooled_quantile_of_the_burn_in(built):
    builder, bank = built
    stat = builder.burn_in_statistic
    assert stat.shape == (BURN_IN * len(AGES), )
    np.testing.assert_array_equal(
        np.bincount(builder.burn_in_conditions), [BURN_IN] * len(AGES))
    cut = np.quantile(stat, QUANTILE)
    # one cut-off, pooled over the label values, the 0.7 quantile
    np.testing.assert_array_equal(builder.cutoffs, [cut] * len(AGES))
    assert bank.meta['filter_cutoffs'] == pytest.approx([cut] * len(AGES))
    summary = builder.filter_summary()
    assert summary['kept_fraction'] == pytest.approx(np.mean(stat <= cut))
    # the teacher's errors differ between the label values: pooling matters
    per_value = [
        np.quantile(stat[builder.burn_in_conditions == c], QUANTILE)
        for c in range(len(AGES))
    ]
    assert not np.allclose(per_value, cut)


def test_every_kept_sample_is_within_the_cut_off(built):
    builder, bank = built
    assert len(bank) == NUM_FAKE
    errors = np.abs(
        np.asarray(bank.teacher_labels, np.float64) -
        np.asarray(bank.cond_labels, np.float64))
    assert np.all(errors <= builder.cutoffs[0] + 1e-4)
    assert bank.meta['over_generation'] > 1
    assert 0 < bank.meta['filter_pass_rate'] < 1
    # a regression bank has no classes to crowd into
    assert 'label_collapse' not in bank.meta
    assert 'relabel_changed' not in bank.meta


def test_labels_are_original_units_on_the_grid(built):
    builder, bank = built
    cond = np.asarray(bank.cond_labels)
    assert cond.dtype == np.float32
    assert bank.teacher_labels.dtype == np.float32
    # in years, from the grid, one block per label value, its size in
    # proportion to the value's burn-in candidates within the cut-off
    passed = builder.burn_in_statistic <= builder.cutoffs[0]
    accepted = np.bincount(builder.burn_in_conditions[passed],
                           minlength=len(AGES))
    np.testing.assert_array_equal(
        cond, np.repeat(AGES, quotas_by_acceptance(NUM_FAKE, accepted)))
    assert cond.min() >= LABEL_RANGE[0] and cond.max() <= LABEL_RANGE[1]
    assert np.all(np.isfinite(bank.teacher_labels))


def test_teacher_labels_are_the_teachers_predictions(built, teacher):
    _, bank = built
    images = torch.from_numpy(np.array(bank.images))
    _, predicted = TeacherAdapter(teacher)(images)
    # in years (the head's to_original), not normalised
    np.testing.assert_allclose(
        np.asarray(bank.teacher_labels),
        predicted.numpy(),
        rtol=1e-4,
        atol=1e-3)


def test_relabel_none_keeps_the_generating_value(gan, teacher, tmp_path):
    # the official Steering Angle bank: filtered, not relabelled
    builder = make_builder(gan, teacher, num_fake=24, relabel='none')
    builder.build(str(tmp_path), 'key', dict(test=True))
    bank = SyntheticBank.open(str(tmp_path), verify=True)
    np.testing.assert_array_equal(
        np.asarray(bank.teacher_labels),
        np.asarray(bank.cond_labels).astype(np.float32))
    assert builder.relabel == 'none'


def _burn_in_by_hand(gan, teacher):
    """Every label's burn-in draw, the teacher's values and the cut-off."""
    images, values, targets = [], [], []
    for c, age in enumerate(AGES):
        labels = torch.full((BURN_IN, ), float(age / NORM))
        images.append(
            to_uint8(gan.sample(labels, rng=seeded(0, BURN_IN_STREAM, c))))
        values.append(TeacherAdapter(teacher)(images[-1])[1])
        targets.append(np.full(BURN_IN, age, np.float64))
    images, values = torch.cat(images), torch.cat(values)
    targets = np.concatenate(targets)
    errors = np.abs(values.numpy() - targets.astype(np.float32))
    return images, values, targets, errors, np.quantile(errors, QUANTILE)


def test_the_burn_in_survivors_open_each_label_block(built, gan, teacher):
    """The pooled burn-in is not thrown away: the candidates of label c's
    burn-in under the pooled cut-off, in draw order, open label c's
    block."""
    builder, bank = built
    images, values, targets, errors, cut = _burn_in_by_hand(gan, teacher)
    assert cut == pytest.approx(builder.cutoffs[0])
    starts = np.concatenate([[0], np.cumsum(builder.quotas)])
    for c in range(len(AGES)):
        mine = slice(c * BURN_IN, (c + 1) * BURN_IN)
        keep = np.flatnonzero(errors[mine] <= builder.cutoffs[0])
        keep = keep[:builder.quotas[c]] + c * BURN_IN
        assert len(keep) > 0
        assert builder.rounds[c][0] == [BURN_IN, len(keep)]
        block = slice(starts[c], starts[c] + len(keep))
        np.testing.assert_array_equal(bank.images[block],
                                      images[keep].numpy())
        np.testing.assert_allclose(bank.cond_labels[block], targets[keep])
        np.testing.assert_allclose(bank.teacher_labels[block],
                                   values[keep].numpy(), rtol=1e-6)
    assert builder.num_candidates == sum(builder.draws)


def test_a_round_keeps_exactly_the_samples_under_the_cut_off(built, teacher):
    """Replay a label's round 0 by hand: same draws, same decisions; it
    follows the label's burn-in survivors in the bank."""
    builder, bank = built
    c = next(c for c, rounds in builder.rounds.items() if len(rounds) > 1)
    (_, start), (size, got) = builder.rounds[c][:2]
    assert size <= BATCH and got > 0
    conditions = np.full(size, c)
    images = builder._generate(conditions, seeded(0, ROUND_STREAM, c, 0))
    _, predicted = TeacherAdapter(teacher)(images)
    errors = np.abs(predicted.double().numpy() - float(AGES[c]))
    keep = np.flatnonzero(errors <= builder.cutoffs[0])
    chunk, survived = builder._round(c, 0, size)
    assert survived == size  # no cDR-RS
    np.testing.assert_array_equal(chunk['images'], images[keep].numpy())
    np.testing.assert_allclose(
        chunk['teacher_labels'], predicted[keep].numpy(), rtol=1e-6)
    np.testing.assert_allclose(chunk['cond_labels'], AGES[c])
    start += int(np.sum(builder.quotas[:c]))
    np.testing.assert_array_equal(
        np.asarray(bank.images[start:start + got]),
        images[keep[:got]].numpy())


def test_a_small_bank_spans_the_values_the_filter_passes(gan, teacher,
                                                        tmp_path):
    builder = make_builder(gan, teacher, num_fake=10)
    bank = builder.build(str(tmp_path / 'bank'), 'key', dict(test=True))
    assert len(bank) == 10
    passed = builder.burn_in_statistic <= builder.cutoffs[0]
    accepted = np.bincount(builder.burn_in_conditions[passed],
                           minlength=len(AGES))
    assert (accepted > 0).sum() >= 2  # the case is not degenerate
    np.testing.assert_array_equal(
        bank.cond_labels,
        np.repeat(AGES, quotas_by_acceptance(10, accepted)))


SUBSAMPLE = dict(epochs=1, batch_size=8, hidden_dims=(16, 8), dropout=0.0,
                 lr=1e-3, lr_decay_epochs=(), burn_in=8)


def real_set(num=12):
    """uint8 real images and their labels in [0, 1], each label different."""
    gen = torch.Generator().manual_seed(3)
    images = torch.randint(0, 256, (num, 3, 32, 32), dtype=torch.uint8,
                           generator=gen)
    return images, torch.rand(num, generator=gen)


def test_cdr_rs_fakes_are_generated_at_each_real_batchs_labels(
        gan, teacher, monkeypatch):
    """Every step of the fit generates one new fake at the label of each
    real image of its batch (the official kappa = 0): the ratio is
    conditional; 2 epochs of 12 images in batches of 8, 8 + 4 fakes an
    epoch, each epoch at every real label once."""
    images, labels = real_set()
    generated = []
    sample = gan.sample

    def spy_sample(y, rng=None):
        generated.append(y.cpu())
        return sample(y, rng=rng)

    monkeypatch.setattr(gan, 'sample', spy_sample)
    builder = make_builder(gan, teacher, subsample=dict(SUBSAMPLE, epochs=2))
    builder.fit_subsampler(TensorImages(images, labels))
    assert [len(y) for y in generated] == [8, 4, 8, 4]
    for epoch in (generated[:2], generated[2:]):
        np.testing.assert_array_equal(
            torch.cat(epoch).sort().values, labels.sort().values)


def test_cdr_rs_bound_is_per_label_value(gan, teacher, tmp_path,
                                         monkeypatch):
    """Each label value's ``M`` is the largest ratio of its own burn-in.

    The ratio is 100 y^2 for every candidate of label y: 0.03 at the
    lowest age, 100 at the highest. Bounded per label, cDR-RS keeps every
    candidate; one bound pooled over the labels would keep 0.03% of the
    lowest age's.
    """
    def ratios(model, feats, labels):
        return 100.0 * labels.float()**2

    monkeypatch.setattr(subsampling, 'predict_density_ratio',
                        ratios)
    images, labels = real_set()
    builder = make_builder(gan, teacher, subsample=SUBSAMPLE)
    bank = builder.build(str(tmp_path / 'bank'), 'key', dict(test=True),
                         real=TensorImages(images, labels))
    # each label's block opens with every burn-in survivor of the filter
    conditions = builder.burn_in_conditions
    kept = builder.burn_in_statistic <= builder.cutoffs[conditions]
    for c in range(len(AGES)):
        survivors = int(np.sum(kept[conditions == c]))
        assert survivors > 0
        assert builder.rounds[c][0][1] == min(survivors, builder.quotas[c])
    assert len(bank) == NUM_FAKE
    np.testing.assert_allclose(builder.max_ratios, 100 * (AGES / NORM)**2,
                               rtol=1e-5)


class _Real:
    """The metainfo of a real regression set, as the hook reads it."""

    def __init__(self, label_range, normalization_range):
        self.metainfo = dict(
            label_range=label_range, normalization_range=normalization_range)


def test_the_hook_grid_spans_the_datasets_label_range():
    # UTKFace: ages 1..60, normalised by age / 60 -> the grid is 1, 2, ..60
    real = _Real((1.0, 60.0), (0.0, 60.0))
    lo, hi = normalisation_range(real.metainfo)
    assert (lo, hi) == (0.0, 60.0)
    assert label_grid_range(real.metainfo, lo, hi) == (1.0, 60.0)
    grid = np.linspace(1.0, 60.0, 60).astype(np.float32)
    np.testing.assert_array_equal(grid, np.arange(1, 61))
    # no label_range: the whole normalisation range
    assert label_grid_range(
        _Real(None, (-88.13, 97.92)).metainfo, -88.13,
        97.92) == (-88.13, 97.92)
    # a label range wider than the normalisation range is clipped to it
    assert label_grid_range(
        _Real((-100.0, 100.0), None).metainfo, -88.13,
        97.92) == (-88.13, 97.92)
