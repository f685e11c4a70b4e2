# Copyright (c) cgankd_plugin contributors.
"""cDR-RS in a bank build, as the official code runs it.

The density ratio is fitted on the real images' teacher features (flipped
at random, or not) against fakes generated afresh at every step; each
class's bound ``M`` is the largest ratio of a burn-in of
``subsample['burn_in']`` fresh fakes, raised by every later batch, round
after round; the filter's cut-off is set on the sampler's survivors; the
model and the features stay on the teacher's device. A tiny (untrained)
BigGAN and ResNet-8 teacher at 32x32, 10 classes (``tiny_gans``).
"""
import copy

import numpy as np
import pytest
import torch

from cgankd_plugin.structures import TensorImages
from cgankd_plugin.synthesis import (BaseBankBuilder, TeacherAdapter,
                                     make_bank_builder)
from cgankd_plugin.synthesis.builder import subsampling, subsample_settings
from cgankd_plugin.synthesis.builder.rng import (BURN_IN_STREAM,
                                                 MAX_RATIO_STREAM, seeded,
                                                 to_uint8)
from cgankd_plugin.synthesis.builder.subsampling import dre_cache_file
from cgankd_plugin.synthesis.teacher_filter import classification_statistic

NUM_CLASSES = 10
SUBSAMPLE = dict(epochs=3, batch_size=16, hidden_dims=(16, 8), dropout=0.0,
                 lr=1e-3, lr_decay_epochs=(), burn_in=10)


def make_builder(gan, teacher, num_fake=40, subsample=SUBSAMPLE, **kwargs):
    options = dict(
        gan_labels=torch.arange(NUM_CLASSES),
        bank_labels=np.arange(NUM_CLASSES),
        relabel='hard',
        filter_quantile=0.9,
        burn_in=4,
        batch_size=4,
        seed=0,
        max_rounds_per_condition=50,
        log=lambda line: None)
    options.update(kwargs)
    return make_bank_builder(gan, TeacherAdapter(teacher), num_fake,
                             subsample=subsample, **options)


def real_set(num=40, seed=3):
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (num, 3, 32, 32), dtype=torch.uint8,
                           generator=gen)
    return TensorImages(images, torch.arange(num) % NUM_CLASSES)


def test_the_fit_generates_new_fakes_at_every_step(gan, teacher,
                                                   monkeypatch):
    """3 epochs of 40 real images in batches of 16: 9 steps, each asks
    the generator for 16, 16 or 8 new fakes at its real batch's labels;
    no two of the 120 fakes are the same image (fresh noise)."""
    real = real_set()
    calls, images = [], []
    sample = gan.sample

    def spy_sample(labels, rng=None):
        calls.append(labels.cpu())
        images.append(sample(labels, rng=rng))
        return images[-1]

    monkeypatch.setattr(gan, 'sample', spy_sample)
    make_builder(gan, teacher).fit_subsampler(real)
    assert [len(y) for y in calls] == [16, 16, 8] * 3
    for epoch in range(3):
        seen = torch.cat(calls[3 * epoch:3 * epoch + 3])
        assert torch.equal(seen.sort().values, real.labels.sort().values)
    flat = torch.cat(images).flatten(1)
    assert len(torch.unique(flat, dim=0)) == 120


@pytest.mark.parametrize('flip', [True, False])
def test_the_fit_sees_the_real_images_flipped_when_asked(
        gan, teacher, monkeypatch, flip):
    """``flip=True`` (the default, as the official classification and
    UTKFace code): the fit gets the teacher's features of the real images
    and of their horizontal mirrors, to pick from at random;
    ``flip=False`` (Steering Angle): no mirrors."""
    real = real_set()
    got = {}
    fit = subsampling.fit_density_ratio

    def spy_fit(real_feats, real_labels, fakes, num_classes, **kwargs):
        got.update(kwargs, real_feats=real_feats, labels=real_labels)
        return fit(real_feats, real_labels, fakes, num_classes, **kwargs)

    monkeypatch.setattr(subsampling, 'fit_density_ratio', spy_fit)
    subsample = dict(SUBSAMPLE, epochs=1)
    if not flip:
        subsample['flip'] = False
    make_builder(gan, teacher, subsample=subsample).fit_subsampler(real)
    adapter = TeacherAdapter(teacher)
    torch.testing.assert_close(got['real_feats'], adapter(real.images)[0])
    assert torch.equal(got['labels'], real.labels)
    if flip:
        mirrored = adapter(real.images.flip(-1))[0]
        torch.testing.assert_close(got['flipped_feats'], mirrored)
        assert not torch.allclose(mirrored, got['real_feats'])
    else:
        assert got['flipped_feats'] is None


def test_m_is_the_largest_ratio_of_a_fresh_burn_in(gan, teacher,
                                                   monkeypatch):
    """``subsample['burn_in']`` = 10 fakes of the class, in batches of the
    build's 4 (batch k seeded by (seed, MAX_RATIO_STREAM, c, k)); M is
    their largest ratio."""
    sizes = []

    def ratios(model, feats, labels):
        sizes.append(len(feats))
        assert torch.all(labels == 7)
        return feats.sum(1)  # any function of the features

    monkeypatch.setattr(subsampling, 'predict_density_ratio', ratios)
    builder = make_builder(gan, teacher)
    builder.dre = object()  # the ratios are patched
    bound = builder._max_ratio_burn_in(7)
    assert sizes == [4, 4, 2] and builder.draws == [4, 4, 2]
    adapter = TeacherAdapter(teacher)
    expected = max(
        adapter(to_uint8(gan.sample(
            torch.full((n, ), 7),
            rng=seeded(0, MAX_RATIO_STREAM, 7, k))))[0].sum(1).max().item()
        for k, n in enumerate(sizes))
    assert bound == pytest.approx(expected, rel=1e-6)


def test_m_rises_with_every_later_batch_of_its_condition(
        gan, teacher, tmp_path, monkeypatch):
    """M = 1 after the draw for M; the first burn-in round's candidate 0
    has ratio 10, so M is 10 from then on, in every round of every
    class; in class 3's round 0 a ratio of 50 raises class 3's M, and
    only class 3's, for its later rounds."""
    phase = {}
    calls = np.zeros(NUM_CLASSES, int)

    def ratios(model, feats, labels):
        c = int(labels[0])
        calls[c] += 1
        out = torch.ones(len(feats))
        if calls[c] == 1:
            out[0] = 10.0
        if phase.get('round') == (3, 0):
            out[0] = 50.0
        return out

    seen = []
    fill_round = BaseBankBuilder._round

    def spy_round(self, condition, index, size, sampler=None):
        seen.append((condition, index, sampler.max_ratio))
        phase['round'] = (condition, index)
        return fill_round(self, condition, index, size, sampler)

    monkeypatch.setattr(subsampling, 'predict_density_ratio', ratios)
    monkeypatch.setattr(BaseBankBuilder, '_max_ratio_burn_in',
                        lambda self, c: 1.0)
    monkeypatch.setattr(BaseBankBuilder, '_round', spy_round)
    builder = make_builder(gan, teacher, num_fake=60, batch_size=16,
                           subsample=dict(SUBSAMPLE, epochs=1))
    builder.build(str(tmp_path / 'bank'), 'key', {}, real_set())
    np.testing.assert_array_equal(builder.max_ratios, [10.0] * NUM_CLASSES)
    # ratio 1 under M = 10: the burn-in drew far more than its 4 survivors
    assert all(rounds[0][0] >= 16 for rounds in builder.rounds.values())
    for c, index, bound in seen:
        assert bound == (50.0 if c == 3 and index > 0 else 10.0)
    assert any(c == 3 and index > 0 for c, index, _ in seen)


def test_the_cut_off_is_the_quantile_of_the_samplers_survivors(
        gan, teacher, tmp_path, monkeypatch):
    """Ratio 1 for the first candidate of every draw, 0 for the others:
    class c's burn-in is the first candidate of each of its 4 rounds
    (seeded (seed, BURN_IN_STREAM, c, k)); its cut-off is the 0.9
    quantile of their cross-entropies, and those under it open its
    block."""
    def ratios(model, feats, labels):
        out = torch.zeros(len(feats))
        out[0] = 1.0
        return out

    monkeypatch.setattr(subsampling, 'predict_density_ratio', ratios)
    builder = make_builder(gan, teacher, subsample=dict(SUBSAMPLE, epochs=1))
    bank = builder.build(str(tmp_path / 'bank'), 'key', {}, real_set())
    adapter = TeacherAdapter(teacher)
    starts = np.concatenate([[0], np.cumsum(builder.quotas)])
    for c in range(NUM_CLASSES):
        firsts = torch.stack([
            to_uint8(gan.sample(torch.full((4, ), c),
                                rng=seeded(0, BURN_IN_STREAM, c, k)))[0]
            for k in range(4)
        ])
        logits = adapter(firsts)[1]
        stat = classification_statistic(logits, torch.full((4, ), c))
        np.testing.assert_allclose(
            builder.burn_in_statistic[builder.burn_in_conditions == c],
            stat, rtol=1e-6)
        assert builder.cutoffs[c] == pytest.approx(np.quantile(stat, 0.9))
        keep = np.flatnonzero(stat <= builder.cutoffs[c])
        assert builder.rounds[c][0] == [16, len(keep)]
        block = slice(starts[c], starts[c] + len(keep))
        np.testing.assert_array_equal(bank.images[block],
                                      firsts[keep].numpy())


def test_cdrrs_and_the_filter_are_counted_apart(gan, teacher, tmp_path,
                                                monkeypatch):
    """Ratio 1 for the first candidate of every draw, 0 for the others:
    cDR-RS keeps one candidate a draw, and the filter sees only those
    (its pass rate is theirs, not the candidates')."""
    def ratios(model, feats, labels):
        out = torch.zeros(len(feats))
        out[0] = 1.0
        return out

    firsts = []
    draw = BaseBankBuilder._draw

    def spy(self, conditions, rng):
        out = draw(self, conditions, rng)
        firsts.append((conditions[0], out['statistic'][0], len(conditions)))
        return out

    monkeypatch.setattr(subsampling, 'predict_density_ratio', ratios)
    monkeypatch.setattr(BaseBankBuilder, '_draw', spy)
    builder = make_builder(gan, teacher, num_fake=20,
                           subsample=dict(SUBSAMPLE, epochs=1))
    bank = builder.build(str(tmp_path / 'bank'), 'key', {}, real_set())
    cond, stat, sizes = (np.array(v) for v in zip(*firsts))
    candidates = int(sizes.sum())
    assert bank.meta['candidates'] == candidates
    assert bank.meta['cdrrs_acceptance'] == pytest.approx(
        len(firsts) / candidates, abs=1e-4)
    passed = np.sum(stat <= builder.cutoffs[cond])
    assert bank.meta['filter_pass_rate'] == pytest.approx(
        passed / len(firsts), abs=1e-4)
    assert bank.meta['over_generation'] == pytest.approx(candidates / 20,
                                                         abs=1e-4)


def test_the_fit_and_its_features_stay_on_the_teachers_device(
        gan, teacher, tmp_path, monkeypatch):
    """The generator and the teacher on the ``meta`` device: the real
    features, the fresh fakes' features and the model are made there
    (a ``.cpu()`` or a host tensor on the way would raise), and a saved
    model is loaded there. The one host read of the fit, the loss of a
    progress line, is switched off (a meta tensor holds no value)."""
    fit = subsampling.fit_density_ratio
    monkeypatch.setattr(subsampling, 'fit_density_ratio',
                        lambda *args, **kwargs: fit(
                            *args, **dict(kwargs, log_fn=None)))
    meta = torch.device('meta')
    builder = make_builder(
        copy.deepcopy(gan).to(meta), copy.deepcopy(teacher).to(meta),
        gan_labels=torch.arange(NUM_CLASSES, device=meta))
    real = real_set()
    feats, flipped = builder._real_features(real, flip=True)
    assert feats.device == meta and flipped.device == meta
    assert feats.shape == flipped.shape == (40, 64)
    builder.fit_subsampler(real)
    assert all(p.device == meta for p in builder.dre.parameters())
    # a model fitted on the CPU, loaded by a builder on the meta device
    cpu = make_builder(gan, teacher)
    cpu.fit_subsampler(real)
    path = str(tmp_path / 'dre.pth')
    cpu._save_dre(path)
    builder.dre = None
    builder._load_dre(path)
    assert all(p.device == meta for p in builder.dre.parameters())


def test_subsample_settings_defaults_and_refusals():
    sampler, fit = subsample_settings(dict(epochs=3, lr=1e-3))
    assert sampler == dict(burn_in=5000, flip=True)  # official CIFAR-100
    assert fit == dict(epochs=3, lr=1e-3)
    sampler, _ = subsample_settings(dict(burn_in=100, flip=False))
    assert sampler == dict(burn_in=100, flip=False)
    with pytest.raises(ValueError, match=r"unknown keys \['num_fake_train'"):
        subsample_settings(dict(num_fake_train=4))
    with pytest.raises(ValueError, match='burn_in'):
        subsample_settings(dict(burn_in=0))
    with pytest.raises(ValueError, match='flip'):
        subsample_settings(dict(flip='yes'))


def test_the_density_ratio_cache_ignores_the_bound_burn_in_only():
    """``burn_in`` is read by the sampling, not the fit: banks that differ
    in it share a fitted model; ``flip`` is another model."""
    real = TensorImages(torch.zeros(4, 1, 8, 8, dtype=torch.uint8),
                        torch.arange(4))

    def path(**subsample):
        return dre_cache_file('/cache', 'g', 't', [], real,
                              dict(dict(epochs=2), **subsample), 0, 4)

    assert path(burn_in=10) == path(burn_in=5000) == path()
    assert path(flip=False) != path()
    assert path(lr_decay_epochs=(80, 150)) != path()
