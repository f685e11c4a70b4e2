# Copyright (c) cgankd_plugin contributors.
"""A bank build split over ranks, without processes: each rank is a thread
with its own copy of the cGAN and the teacher, and the ranks meet only
through the staging folder, as processes do.

Classification: rank r runs the classes r, r + W, ...; regression: the
planned rounds r, r + W, ... after a burn-in every rank reads. Whatever W,
the bank is byte for byte the one-process bank, also after a kill of the
writer or of a helper and a resume with another number of ranks.
"""
import copy
import os.path as osp
import threading

import numpy as np
import pytest
import torch

from cgankd_plugin.synthesis import (BankWriter, ClassificationBankBuilder,
                                     RegressionBankBuilder, SyntheticBank,
                                     TeacherAdapter, make_bank_builder)
from cgankd_plugin.synthesis.bank_staging import (BankStaging,
                                                  StagingFailure,
                                                  staging_dir)
from cgankd_plugin.structures import TensorImages

NUM_CLASSES = 10
NUM_FAKE = 123
AGES = np.linspace(1.0, 60.0, 4).astype(np.float32)


def classification(gan, teacher, **kwargs):
    options = dict(
        num_fake=NUM_FAKE,
        gan_labels=torch.arange(NUM_CLASSES),
        bank_labels=np.arange(NUM_CLASSES),
        relabel='hard',
        filter_quantile=0.9,
        burn_in=8,
        batch_size=4,
        seed=0,
        max_rounds_per_condition=20)
    options.update(kwargs)
    return gan, teacher, options


def regression(gan, teacher, **kwargs):
    options = dict(
        num_fake=60,
        gan_labels=torch.from_numpy(AGES / 60.0),
        bank_labels=AGES,
        filter_quantile=0.7,
        burn_in=16,
        batch_size=8,
        seed=0,
        max_rounds_per_condition=50)
    options.update(kwargs)
    return gan, teacher, options


def run_ranks(setup, world, bank_dir, session='s1', per_rank=None,
              **build_kwargs):
    """Build with ``world`` ranks (threads); returns the builders, rank 0's
    bank (or None) and the error of each rank that failed."""
    gan, teacher, options = setup
    builders = []
    for rank in range(world):
        extra = (per_rank or {}).get(rank, {})
        builders.append(
            make_bank_builder(
                copy.deepcopy(extra.get('gan', gan)),
                TeacherAdapter(copy.deepcopy(teacher)),
                rank=rank,
                world_size=world,
                session=session,
                poll_seconds=0.01,
                log=lambda line: None,
                **options))
    results, errors = {}, {}

    def go(rank):
        try:
            results[rank] = builders[rank].build(
                str(bank_dir), 'key', dict(test=True), **build_kwargs)
        except BaseException as err:  # noqa: B902 (a kill, too)
            errors[rank] = err

    threads = [
        threading.Thread(target=go, args=(r, ), daemon=True)
        for r in range(1, world)
    ]
    for t in threads:
        t.start()
    go(0)
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), 'a helper rank hangs'
    return builders, results.get(0), errors


@pytest.fixture(scope='module')
def reference(gan, teacher, tmp_path_factory):
    path = tmp_path_factory.mktemp('ref') / 'bank'
    builders, bank, errors = run_ranks(classification(gan, teacher), 1, path)
    assert not errors and len(bank) == NUM_FAKE
    return builders[0], bank


@pytest.mark.parametrize('world', [2, 3])
def test_classes_split_over_ranks_make_the_one_rank_bank(
        gan, teacher, reference, tmp_path, world):
    ref_builder, ref = reference
    path = tmp_path / 'bank'
    builders, bank, errors = run_ranks(classification(gan, teacher), world,
                                       path)
    assert not errors
    assert bank.content_hash() == ref.content_hash()
    assert bank.meta['filter_cutoffs'] == ref.meta['filter_cutoffs']
    assert bank.meta['world_size'] == world
    # every rank drew its own classes' burn-in and rounds, and nothing else
    shares = {s['rank']: s for s in bank.meta['by_rank_this_session']}
    assert sorted(shares) == list(range(world))
    for rank, builder in enumerate(builders):
        mine = set(range(rank, NUM_CLASSES, world))
        # burn-in draws are of 8, rounds of at most 4
        assert builder.draws.count(8) == len(mine)
        quota = sum(ref_builder.quotas[c] for c in mine)
        assert shares[rank]['accepted'] == quota
        assert shares[rank]['candidates'] > quota
    # the same candidates in all as one rank, no more
    assert sum(s['candidates'] for s in shares.values()) == (
        ref_builder.num_candidates)
    np.testing.assert_array_equal(builders[0].burn_in_statistic,
                                  ref_builder.burn_in_statistic)
    assert not osp.exists(staging_dir(str(path)))
    assert not osp.exists(str(path) + '.partial')


def test_regression_rounds_split_over_ranks_make_the_one_rank_bank(
        ccgan, regressor, tmp_path):
    setup = regression(ccgan, regressor)
    ref_builders, ref, errors = run_ranks(setup, 1, tmp_path / 'one')
    assert not errors
    assert len(ref_builders[0].chunk_candidates) > 2  # burn-in + rounds
    builders, bank, errors = run_ranks(setup, 2, tmp_path / 'two')
    assert not errors
    assert bank.content_hash() == ref.content_hash()
    assert bank.meta['filter_cutoffs'] == ref.meta['filter_cutoffs']
    shares = {s['rank']: s for s in bank.meta['by_rank_this_session']}
    assert shares[1]['accepted'] > 0 and shares[0]['accepted'] > 0
    # the pooled burn-in: each rank drew its labels, all read all
    assert builders[1].draws[:2] == [16, 16]
    for b in builders:
        np.testing.assert_array_equal(b.cutoffs, ref_builders[0].cutoffs)


SUBSAMPLE = dict(epochs=2, batch_size=16, hidden_dims=(16, 8), dropout=0.0,
                 lr=1e-3, lr_decay_epochs=(), num_fake_train=40)


def test_cdr_rs_is_fitted_once_and_shared(gan, teacher, tmp_path):
    gen = torch.Generator().manual_seed(3)
    images = torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8,
                           generator=gen)
    labels = torch.arange(40) % NUM_CLASSES
    setup = classification(gan, teacher, subsample=SUBSAMPLE)
    _, ref, errors = run_ranks(setup, 1, tmp_path / 'one',
                               real=TensorImages(images, labels))
    assert not errors
    builders, bank, errors = run_ranks(setup, 2, tmp_path / 'two',
                                       real=TensorImages(images, labels))
    assert not errors
    assert bank.content_hash() == ref.content_hash()
    for name, value in builders[0].dre.state_dict().items():
        torch.testing.assert_close(builders[1].dre.state_dict()[name], value,
                                   rtol=0, atol=0)


def _kill_after(monkeypatch, cls, name, count, when=lambda self: True):
    original = getattr(cls, name)
    calls = []

    def dying(self, *args, **kwargs):
        if when(self):
            if len(calls) == count:
                raise KeyboardInterrupt('killed')
            calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, dying)


@pytest.mark.parametrize('resume_world', [1, 2, 3])
def test_killed_writer_resumes_to_the_same_bank(gan, teacher, reference,
                                                tmp_path, monkeypatch,
                                                resume_world):
    _, ref = reference
    path = tmp_path / 'bank'
    setup = classification(gan, teacher)
    _kill_after(monkeypatch, BankWriter, 'append_chunk', 12)
    _, bank, errors = run_ranks(setup, 2, path, session='first')
    assert isinstance(errors.get(0), KeyboardInterrupt) and bank is None
    assert not SyntheticBank.is_complete(str(path))
    assert osp.isdir(staging_dir(str(path)))
    monkeypatch.undo()
    builders, bank, errors = run_ranks(setup, resume_world, path,
                                       session='second')
    assert not errors
    assert bank.content_hash() == ref.content_hash()
    assert builders[0].num_accepted < NUM_FAKE  # resumed, not redone
    assert not osp.exists(staging_dir(str(path)))  # also with one rank


def test_killed_helper_stops_the_writer_and_resumes(gan, teacher, reference,
                                                    tmp_path, monkeypatch):
    _, ref = reference
    path = tmp_path / 'bank'
    setup = classification(gan, teacher)
    _kill_after(monkeypatch, BankStaging, 'save', 9,
                when=lambda self: self.rank == 1)
    _, bank, errors = run_ranks(setup, 2, path, session='first')
    assert isinstance(errors.get(1), KeyboardInterrupt)
    # rank 0 does not wait forever: it reads rank 1's failure
    assert isinstance(errors.get(0), StagingFailure)
    assert 'rank 1' in str(errors[0]) and 'killed' in str(errors[0])
    monkeypatch.undo()
    _, bank, errors = run_ranks(setup, 2, path, session='second')
    assert not errors
    assert bank.content_hash() == ref.content_hash()


def test_a_failing_helper_is_reported_by_the_writer(gan, teacher, tmp_path):
    broken = copy.deepcopy(gan)
    with torch.no_grad():
        for param in broken.generator_ema.parameters():
            param.fill_(float('nan'))
    _, bank, errors = run_ranks(
        classification(gan, teacher), 2, tmp_path / 'bank',
        per_rank={1: dict(gan=broken)})
    assert isinstance(errors[1], FloatingPointError)
    assert isinstance(errors[0], StagingFailure)
    assert 'NaN' in str(errors[0])


def test_bad_rank_arguments(gan, teacher):
    _, _, options = classification(gan, teacher)
    with pytest.raises(ValueError, match='rank'):
        make_bank_builder(gan, TeacherAdapter(teacher), rank=2,
                          world_size=2, **options)


def test_make_bank_builder_picks_the_task(gan, teacher, ccgan, regressor):
    _, _, options = classification(gan, teacher)
    builder = make_bank_builder(gan, TeacherAdapter(teacher), **options)
    assert isinstance(builder, ClassificationBankBuilder)
    _, _, options = regression(ccgan, regressor)
    builder = make_bank_builder(ccgan, TeacherAdapter(regressor), **options)
    assert isinstance(builder, RegressionBankBuilder)
    assert builder.relabel == 'value'
    with pytest.raises(TypeError, match='make_bank_builder'):
        ClassificationBankBuilder(ccgan, TeacherAdapter(regressor),
                                  **options)
