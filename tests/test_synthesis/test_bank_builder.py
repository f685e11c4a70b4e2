# Copyright (c) cgankd_plugin contributors.
"""ClassificationBankBuilder: a tiny (untrained) cGAN and a tiny teacher
build real banks.

Everything runs on one thread at 32x32 with 10 classes, a width-4 BigGAN
and a ResNet-8 teacher: a build of 123 samples (burn-in 8 per class, rounds
of at most 4) takes about a second.
"""
import copy
import math
import os
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cgankd_plugin.synthesis import (BankCorruptError, BaseBankBuilder,
                                     SyntheticBank, TeacherAdapter,
                                     make_bank_builder)
from cgankd_plugin.synthesis.builder import (base, plan_rounds, subsampling,
                                             top_up_size)
from cgankd_plugin.synthesis.builder.rng import (BURN_IN_STREAM,
                                                 ROUND_STREAM, seeded,
                                                 to_uint8)
from cgankd_plugin.synthesis.layout import (condition_of_positions,
                                            condition_quotas)
from cgankd_plugin.synthesis.teacher_filter import classification_statistic
from cgankd_plugin.structures import TensorImages

NUM_CLASSES = 10
# uneven quotas, 13 for classes 0-2 and 12 for the rest: more than the
# burn-in of 8 per class can fill, so every class needs rounds
NUM_FAKE = 123
BURN_IN = 8


def make_builder(gan, teacher, **kwargs):
    lines = []
    options = dict(
        num_fake=NUM_FAKE,
        gan_labels=torch.arange(NUM_CLASSES),
        bank_labels=np.arange(NUM_CLASSES),
        relabel='hard',
        filter_quantile=0.9,
        burn_in=BURN_IN,
        batch_size=4,
        seed=0,
        max_rounds_per_condition=20,
        log=lines.append)
    options.update(kwargs)
    builder = make_bank_builder(gan, TeacherAdapter(teacher), **options)
    builder.lines = lines
    return builder


def build(builder, path, **kwargs):
    return builder.build(str(path), 'key', dict(test=True), **kwargs)


def teacher_logits(teacher, bank):
    _, logits = TeacherAdapter(teacher)(torch.from_numpy(
        np.array(bank.images)))
    return logits


@pytest.fixture(scope='module')
def hard_bank(gan, teacher, tmp_path_factory):
    builder = make_builder(gan, teacher)
    bank = build(builder, tmp_path_factory.mktemp('hard') / 'bank')
    return builder, bank


def test_exact_size_and_class_blocks(hard_bank):
    builder, bank = hard_bank
    assert len(bank) == NUM_FAKE
    assert bank.images.shape == (NUM_FAKE, 3, 32, 32)
    assert bank.images.dtype == np.uint8
    cond = np.asarray(bank.cond_labels)
    np.testing.assert_array_equal(
        cond, condition_of_positions(NUM_FAKE, NUM_CLASSES))
    np.testing.assert_array_equal(
        np.bincount(cond, minlength=NUM_CLASSES),
        condition_quotas(NUM_FAKE, NUM_CLASSES))
    assert bank.teacher_probs is None
    assert bank.meta['relabel'] == 'hard'
    # the filter rejected something (q = 0.9), and the meta says how much
    assert builder.num_candidates > NUM_FAKE
    assert bank.meta['over_generation'] == pytest.approx(
        builder.num_candidates / NUM_FAKE, abs=1e-4)
    assert any(
        line.startswith(f'bank: {NUM_FAKE}/{NUM_FAKE} (100 %)')
        and 'done in' in line and 'accepted' in line
        for line in builder.lines)
    SyntheticBank.open(bank.path, expected_key='key', verify=True)


def test_hard_labels_are_the_teachers_argmax(hard_bank, teacher):
    _, bank = hard_bank
    logits = teacher_logits(teacher, bank)
    np.testing.assert_array_equal(
        np.asarray(bank.teacher_labels), logits.argmax(1).numpy())
    # a random teacher disagrees with the generating class somewhere, so
    # the check above is not the identity
    assert not np.array_equal(bank.teacher_labels, bank.cond_labels)


def test_every_sample_is_under_its_class_cutoff(hard_bank, teacher):
    builder, bank = hard_bank
    cond = torch.from_numpy(np.array(bank.cond_labels))
    ce = F.cross_entropy(teacher_logits(teacher, bank), cond,
                         reduction='none').numpy()
    cutoffs = builder.cutoffs[cond.numpy()]
    assert np.all(ce <= cutoffs + 1e-5), (ce, cutoffs)
    # the cut-offs are the per-class 0.9-quantiles of the burn-in draw
    for c in range(NUM_CLASSES):
        values = builder.burn_in_statistic[builder.burn_in_conditions == c]
        assert len(values) == 8
        assert builder.cutoffs[c] == pytest.approx(np.quantile(values, 0.9))
    assert bank.meta['filter_cutoffs'] == pytest.approx(
        builder.cutoffs.tolist())
    summary = builder.filter_summary()
    assert 0.8 <= summary['kept_fraction'] < 1


def test_burn_in_survivors_open_each_class_block(hard_bank, gan, teacher):
    """The burn-in is not thrown away: the candidates of class c's burn-in
    draw (seeded by (seed, c)) under its cut-off are the first samples of
    class c's block, in draw order, with the teacher's labels."""
    builder, bank = hard_bank
    starts = np.concatenate([[0], np.cumsum(builder.quotas)])
    for c in range(NUM_CLASSES):
        rng = seeded(0, BURN_IN_STREAM, c)
        labels = torch.full((BURN_IN, ), c)
        images = to_uint8(gan.sample(labels, rng=rng))
        _, logits = TeacherAdapter(teacher)(images)
        stat = classification_statistic(logits, labels)
        keep = np.flatnonzero(stat <= np.quantile(stat, 0.9))
        assert 1 <= len(keep) < builder.quotas[c]
        block = slice(starts[c], starts[c] + len(keep))
        np.testing.assert_array_equal(bank.images[block],
                                      images[keep].numpy())
        np.testing.assert_array_equal(bank.teacher_labels[block],
                                      logits[keep].argmax(1).numpy())
        assert builder.rounds[c][0] == [BURN_IN, len(keep)]
    # the burn-in draws are candidates: every draw of the build is counted
    assert sum(builder.draws) == builder.num_candidates


def test_rounds_are_sized_on_what_the_class_still_needs(
        gan, teacher, tmp_path):
    """bank_batch_size 32, burn-in 8 (7 pass): a class of 12 or 13 needs
    about 6 more samples, so its round draws the floor of 16 candidates,
    not a full round of 32."""
    builder = make_builder(gan, teacher, batch_size=32)
    bank = build(builder, tmp_path / 'bank')
    assert len(bank) == NUM_FAKE
    np.testing.assert_array_equal(
        bank.cond_labels, condition_of_positions(NUM_FAKE, NUM_CLASSES))
    assert sorted(builder.rounds) == list(range(NUM_CLASSES))
    for c, rounds in builder.rounds.items():
        drawn = [n for n, _ in rounds]
        assert drawn[0] == BURN_IN  # the burn-in opens the class
        assert all(16 <= n < 32 for n in drawn[1:])
        assert sum(drawn) < BURN_IN + 32
        assert sum(got for _, got in rounds) == builder.quotas[c]
    assert builder.num_candidates == sum(builder.draws)
    assert builder.num_candidates < NUM_CLASSES * (BURN_IN + 32)
    assert bank.meta['candidates'] == builder.num_candidates
    assert bank.meta['over_generation'] == pytest.approx(
        builder.num_candidates / NUM_FAKE, abs=1e-4)


def test_each_step_is_counted_on_its_own_denominator(gan, teacher, tmp_path,
                                                     monkeypatch):
    """Every candidate of the build is seen (a spy on the draws): the
    meta's filter pass rate is the share under its class's cut-off, the
    over-generation the candidates per sample, the relabelled share the
    samples whose teacher label is not their class; no cDR-RS, no figure
    of it. The old ``acceptance_rate`` (samples per candidate) is gone."""
    seen = []
    draw = BaseBankBuilder._draw

    def spy(self, conditions, rng):
        out = draw(self, conditions, rng)
        seen.append((out['conditions'], out['statistic']))
        return out

    monkeypatch.setattr(BaseBankBuilder, '_draw', spy)
    builder = make_builder(gan, teacher)
    bank = build(builder, tmp_path / 'bank')
    cond = np.concatenate([c for c, _ in seen])
    stat = np.concatenate([s for _, s in seen])
    passed = int(np.sum(stat <= builder.cutoffs[cond]))
    meta = bank.meta
    assert 'acceptance_rate' not in meta
    assert meta['candidates'] == len(stat)
    assert meta['over_generation'] == pytest.approx(len(stat) / NUM_FAKE,
                                                    abs=1e-4)
    assert meta['cdrrs_acceptance'] is None
    assert meta['filter_pass_rate'] == pytest.approx(passed / len(stat),
                                                     abs=1e-4)
    # a full quota drops what else its last round passed
    assert passed > NUM_FAKE
    changed = np.mean(np.asarray(bank.teacher_labels) != bank.cond_labels)
    assert meta['relabel_changed'] == pytest.approx(changed, abs=1e-4)
    assert any(
        line.startswith(f'bank: {NUM_FAKE} samples from {len(stat)} '
                        'candidates (') and 'the filter passed' in line
        for line in builder.lines)


class _AlwaysSix(TeacherAdapter):
    """A teacher that calls every image class 6."""

    def __call__(self, images):
        feats, logits = super().__call__(images)
        return feats, logits + 100.0 * F.one_hot(
            torch.tensor(6), NUM_CLASSES).float()


@pytest.mark.parametrize('relabel', ['hard', 'none'])
def test_a_collapse_onto_one_class_is_recorded(gan, teacher, tmp_path,
                                               relabel):
    builder = make_bank_builder(
        gan, _AlwaysSix(teacher), num_fake=20,
        gan_labels=torch.arange(NUM_CLASSES),
        bank_labels=np.arange(NUM_CLASSES), relabel=relabel, burn_in=4,
        batch_size=4, log=lambda line: None)
    bank = build(builder, tmp_path / 'bank')
    if relabel == 'none':  # the stored labels are the classes: no check
        assert 'label_collapse' not in bank.meta
        assert bank.meta['relabel_changed'] == 0
        return
    assert np.all(np.asarray(bank.teacher_labels) == 6)
    assert bank.meta['relabel_changed'] == pytest.approx(0.9)
    assert bank.meta['label_collapse'] == dict(
        classes=[6], shares=[1.0], fair_share=0.1, entropy_ratio=0.0)


def test_round_sizes_cover_what_is_missing_with_a_margin():
    # CIFAR-100 as shipped: quota 1000, burn-in 500 of which 450 pass
    p = 0.9
    needed = math.ceil((550 + 2 * math.sqrt(550 * (1 - p))) / p)
    assert needed == 628  # (550 + 14.8) / 0.9
    assert plan_rounds(550, 450, 500, 500) == [500, 128]
    # bounded below: a class missing 1 sample draws the floor (16)
    assert plan_rounds(1, 90, 100, 256) == [16]
    assert plan_rounds(1, 90, 100, 4) == [4]
    # nothing missing, or nothing accepted yet: no plan
    assert plan_rounds(0, 45, 64, 8) == []
    assert plan_rounds(5, 0, 8, 4) == []
    # top-up rounds follow the acceptance observed so far
    p = 190 / 230
    expected = math.ceil((10 + 2 * math.sqrt(10 * (1 - p))) / p)
    assert top_up_size(10, 190, 230, 256) == max(16, expected) == 16
    assert top_up_size(500, 190, 230, 256) == 256
    assert top_up_size(5, 0, 8, 4) == 4


def test_relabel_none_keeps_the_generating_class(gan, teacher, hard_bank,
                                                 tmp_path):
    _, hard = hard_bank
    bank = build(make_builder(gan, teacher, relabel='none'), tmp_path / 'b')
    np.testing.assert_array_equal(bank.teacher_labels, bank.cond_labels)
    # relabelling changes labels only: the same draws were accepted
    np.testing.assert_array_equal(bank.images, hard.images)


def test_relabel_soft_stores_probabilities(gan, teacher, hard_bank,
                                           tmp_path):
    _, hard = hard_bank
    bank = build(make_builder(gan, teacher, relabel='soft'), tmp_path / 'b')
    probs = np.asarray(bank.teacher_probs)
    assert probs.shape == (NUM_FAKE, NUM_CLASSES)
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(probs.argmax(1), bank.teacher_labels)
    np.testing.assert_array_equal(bank.teacher_labels, hard.teacher_labels)
    expected = teacher_logits(teacher, bank).softmax(1).numpy()
    np.testing.assert_allclose(probs, expected, atol=1e-5)


def test_same_seed_same_bank_other_seed_other_bank(gan, teacher, hard_bank,
                                                   tmp_path):
    _, hard = hard_bank
    again = build(make_builder(gan, teacher), tmp_path / 'again')
    assert again.content_hash() == hard.content_hash()
    other = build(make_builder(gan, teacher, seed=1), tmp_path / 'other')
    assert other.content_hash() != hard.content_hash()


def _kill_at_shard(monkeypatch, count):
    """Interrupt the build when it writes its ``count``-th shard."""
    saved = []

    def dying_save(path, arrays):
        if osp.basename(path).startswith('shard_'):
            if len(saved) == count - 1:
                raise KeyboardInterrupt('killed')
            saved.append(path)
        return save(path, arrays)

    save = base.save_npz
    monkeypatch.setattr(base, 'save_npz', dying_save)
    return saved


def test_killed_build_resumes_to_the_same_bank(gan, teacher, hard_bank,
                                               tmp_path, monkeypatch):
    """Killed while writing the 6th shard: the resumed build draws only
    the 5 missing classes, as the uninterrupted build drew them, and
    makes its bank byte for byte."""
    builder0, hard = hard_bank
    path = tmp_path / 'bank'
    _kill_at_shard(monkeypatch, 6)
    with pytest.raises(KeyboardInterrupt):
        build(make_builder(gan, teacher), path)
    assert not SyntheticBank.is_complete(str(path))
    assert sorted(os.listdir(str(path) + '.build'))[-5:] == [
        f'shard_{c:05d}.npz' for c in range(5)
    ]
    monkeypatch.undo()

    builder = make_builder(gan, teacher)
    bank = build(builder, path)
    assert any('resuming a partial build, 63/123' in line
               for line in builder.lines)
    assert bank.content_hash() == hard.content_hash()
    assert sorted(builder.rounds) == list(range(5, NUM_CLASSES))
    for c in range(5, NUM_CLASSES):
        assert builder.rounds[c] == builder0.rounds[c]
    # the meta counts every shard's candidates, whichever run drew them
    assert bank.meta['candidates'] == hard.meta['candidates']
    assert not osp.exists(str(path) + '.build')


def test_a_complete_bank_is_opened_a_stale_one_rebuilt_a_corrupt_one_refused(
        gan, teacher, hard_bank, tmp_path):
    _, hard = hard_bank
    path = tmp_path / 'bank'
    old = build(make_builder(gan, teacher, seed=1), path)
    # another key: rebuilt and replaced
    bank = make_builder(gan, teacher).build(str(path), 'new', dict(test=1))
    assert bank.key == 'new' and bank.content_hash() == hard.content_hash()
    assert bank.content_hash() != old.content_hash()
    # the same key: opened (verified), nothing drawn; the build folder a
    # kill after the swap left is removed
    os.makedirs(str(path) + '.build')
    again = make_builder(gan, teacher)
    assert again.build(str(path), 'new', {}).content_hash() == (
        hard.content_hash())
    assert again.draws == [] and not osp.exists(str(path) + '.build')
    # a flipped byte: refused, naming the file
    images = osp.join(str(path), 'images.npy')
    with open(images, 'r+b') as f:
        f.seek(-1, os.SEEK_END)
        byte = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(BankCorruptError, match='images.npy'):
        make_builder(gan, teacher).build(str(path), 'new', {})


def test_filter_that_rejects_everything_stops(gan, teacher, tmp_path):
    # a cross-entropy is > 0: threshold 0 rejects every candidate
    builder = make_builder(
        gan, teacher, filter_quantile=None, filter_threshold=0.0,
        max_rounds_per_condition=3)
    with pytest.raises(RuntimeError, match='filter') as info:
        build(builder, tmp_path / 'bank')
    assert 'condition 0' in str(info.value)
    assert '3 rounds' in str(info.value)
    # class 0: the burn-in (which accepted nothing either), then 3 full
    # rounds; every class's burn-in was drawn first
    assert builder.rounds == {0: [[BURN_IN, 0]] + [[4, 0]] * 3}
    assert sum(builder.draws) == NUM_CLASSES * BURN_IN + 3 * 4
    assert not SyntheticBank.is_complete(str(tmp_path / 'bank'))


def test_nan_generator_raises(gan, teacher, tmp_path):
    broken = copy.deepcopy(gan)
    with torch.no_grad():
        for param in broken.generator_ema.parameters():
            param.fill_(float('nan'))
    with pytest.raises(FloatingPointError, match='NaN'):
        build(make_builder(broken, teacher), tmp_path / 'bank')


def test_bad_arguments(gan, teacher):
    with pytest.raises(ValueError, match='relabel'):
        make_builder(gan, teacher, relabel='argmax')
    with pytest.raises(ValueError, match='num_fake'):
        make_builder(gan, teacher, num_fake=0)
    with pytest.raises(ValueError, match='length'):
        make_builder(gan, teacher, bank_labels=np.arange(3))
    with pytest.raises(ValueError, match=r'filter\.quantile'):
        make_builder(gan, teacher, filter_quantile=1.5)


def real_set(num=40, seed=3):
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (num, 3, 32, 32), dtype=torch.uint8,
                           generator=gen)
    return images, torch.arange(num) % NUM_CLASSES


SUBSAMPLE = dict(epochs=3, batch_size=16, hidden_dims=(16, 8), dropout=0.0,
                 lr=1e-3, lr_decay_epochs=(), burn_in=12)


def test_cdr_rs_subsampling(gan, teacher, tmp_path):
    """The real path: fit the density ratio on the teacher's features of
    real and fresh fake images, estimate M per class, rejection-sample."""
    images, labels = real_set()
    builder = make_builder(gan, teacher, subsample=SUBSAMPLE)
    bank = build(builder, tmp_path / 'bank', real=TensorImages(images, labels))
    assert builder.dre is not None
    assert any('cDR-RS: fitting the density ratio of 40 real images '
               '(flipped at random) against fresh fakes' in line
               for line in builder.lines)
    assert any('cDRE epoch 3/3' in line for line in builder.lines)
    assert builder.max_ratios.shape == (NUM_CLASSES, )
    assert np.all(np.isfinite(builder.max_ratios))
    assert np.all(builder.max_ratios > 0)
    assert len(bank) == NUM_FAKE
    np.testing.assert_array_equal(
        bank.cond_labels, condition_of_positions(NUM_FAKE, NUM_CLASSES))
    cond = torch.from_numpy(np.array(bank.cond_labels))
    ce = F.cross_entropy(teacher_logits(teacher, bank), cond,
                         reduction='none').numpy()
    assert np.all(ce <= builder.cutoffs[cond.numpy()] + 1e-5)
    with pytest.raises(ValueError, match='real images'):
        build(make_builder(gan, teacher, subsample=SUBSAMPLE),
              tmp_path / 'no_real')


def test_a_cached_density_ratio_model_makes_the_same_bank_unfitted(
        gan, teacher, tmp_path, monkeypatch):
    """``dre_cache``: the first build fits cDR-RS and leaves its model
    there; a build finding it loads it instead of fitting, and makes the
    bank, byte for byte, of one that fits."""
    images, labels = real_set()
    cache = str(tmp_path / 'cache' / 'dre.pth')
    fitted = build(make_builder(gan, teacher, subsample=SUBSAMPLE,
                                dre_cache=cache),
                   tmp_path / 'fitted', real=TensorImages(images, labels))
    assert osp.isfile(cache)

    def no_fit(*args, **kwargs):
        raise AssertionError('cDR-RS was fitted again')

    monkeypatch.setattr(BaseBankBuilder, 'fit_subsampler', no_fit)
    builder = make_builder(gan, teacher, subsample=SUBSAMPLE,
                           dre_cache=cache)
    loaded = build(builder, tmp_path / 'loaded',
                   real=TensorImages(images, labels))
    assert any('density-ratio model loaded from' in line
               for line in builder.lines)
    assert loaded.content_hash() == fitted.content_hash()
    monkeypatch.undo()
    plain = build(make_builder(gan, teacher, subsample=SUBSAMPLE),
                  tmp_path / 'plain', real=TensorImages(images, labels))
    assert plain.content_hash() == fitted.content_hash()


def test_rejection_sampling_uses_each_candidates_ratio(
        gan, teacher, tmp_path, monkeypatch):
    """Ratio 1 for the first candidate of every draw, 0 for the rest (so
    M = 1): the burn-in keeps the first candidate of each of its rounds,
    the cut-off is set on those, and a class's block is its burn-in
    survivors under the cut-off, then only first candidates of rounds:
    the ratios reach the right samples."""
    def ratios(model, feats, labels):
        out = torch.zeros(len(feats))
        out[0] = 1.0
        return out

    monkeypatch.setattr(subsampling, 'predict_density_ratio', ratios)
    images, labels = real_set()
    builder = make_builder(gan, teacher, subsample=SUBSAMPLE)
    bank = build(builder, tmp_path / 'bank', real=TensorImages(images, labels))
    np.testing.assert_array_equal(builder.max_ratios, np.ones(NUM_CLASSES))
    assert len(bank) == NUM_FAKE
    pos = 0
    for c in range(NUM_CLASSES):
        # BURN_IN survivors, one a round of 4, the cut-off their quantile
        stat = builder.burn_in_statistic[builder.burn_in_conditions == c]
        assert len(stat) == BURN_IN
        assert builder.cutoffs[c] == pytest.approx(np.quantile(stat, 0.9))
        (candidates, burn_in), *rounds = builder.rounds[c]
        assert candidates == 4 * BURN_IN
        assert burn_in == np.sum(stat <= builder.cutoffs[c]) >= 1
        pos += burn_in
        for k, (size, n) in enumerate(rounds):
            assert n <= 1  # never more than the one candidate of ratio 1
            if n:
                rng = seeded(0, ROUND_STREAM, c, k)
                first = builder._generate(np.full(size, c), rng)[0].numpy()
                np.testing.assert_array_equal(bank.images[pos], first)
                pos += 1
    assert pos == NUM_FAKE


def test_cdr_rs_collapsed_ratio_model_is_a_clear_error(
        gan, teacher, tmp_path, monkeypatch):
    images, labels = real_set()
    # a model whose ratios are all 0 would accept nothing, forever
    monkeypatch.setattr(subsampling, 'predict_density_ratio',
                        lambda model, feats, labels: torch.zeros(len(feats)))
    builder = make_builder(gan, teacher, subsample=SUBSAMPLE)
    with pytest.raises(ValueError, match='collapsed'):
        build(builder, tmp_path / 'bank', real=TensorImages(images, labels))
