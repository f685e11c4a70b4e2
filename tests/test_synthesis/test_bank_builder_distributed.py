# Copyright (c) cgankd_plugin contributors.
"""A bank build split over ranks.

Most tests run the ranks' phases in one process, one rank after the other
between what would be the barriers (``prepare``, ``draw_burn_in``,
``fill``, then rank 0's ``assemble``); one runs the real thing, two gloo
processes calling ``build``. Rank r draws the conditions r, r + W, ...;
whatever W, and after a kill resumed with another W, the bank is byte for
byte the one-rank bank.
"""
import copy
import os.path as osp
import time
from datetime import timedelta

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from cgankd_plugin.synthesis import (BankError, BaseBankBuilder,
                                     ClassificationBankBuilder,
                                     RegressionBankBuilder, TeacherAdapter,
                                     make_bank_builder)
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


def builders_of(setup, world):
    gan, teacher, options = setup
    return [
        make_bank_builder(
            copy.deepcopy(gan), TeacherAdapter(copy.deepcopy(teacher)),
            rank=rank, world_size=world, log=lambda line: None, **options)
        for rank in range(world)
    ]


def run_ranks(setup, world, bank_dir, real=None):
    """Each rank's phases in turn, as the barriers order them; returns the
    builders and the bank rank 0 assembled."""
    builders = builders_of(setup, world)
    for builder in builders:
        builder.prepare(str(bank_dir), 'key', dict(test=True), real)
    for step in ('draw_burn_in', 'fill'):
        for builder in builders:
            getattr(builder, step)()
    return builders, builders[0].assemble()


@pytest.fixture(scope='module')
def reference(gan, teacher, tmp_path_factory):
    path = tmp_path_factory.mktemp('ref') / 'bank'
    builder = builders_of(classification(gan, teacher), 1)[0]
    bank = builder.build(str(path), 'key', dict(test=True))
    assert len(bank) == NUM_FAKE
    return builder, bank


@pytest.mark.parametrize('world', [2, 3])
def test_classes_split_over_ranks_make_the_one_rank_bank(
        gan, teacher, reference, tmp_path, world):
    ref_builder, ref = reference
    path = tmp_path / 'bank'
    builders, bank = run_ranks(classification(gan, teacher), world, path)
    assert bank.content_hash() == ref.content_hash()
    assert bank.meta['filter_cutoffs'] == ref.meta['filter_cutoffs']
    assert bank.meta['candidates'] == ref.meta['candidates']
    assert bank.meta['world_size'] == world
    # every rank drew its own classes' burn-in and rounds, and nothing else
    for rank, builder in enumerate(builders):
        mine = list(range(rank, NUM_CLASSES, world))
        assert sorted(builder.rounds) == mine
        assert builder.draws.count(8) == len(mine)  # rounds draw <= 4
        for c in mine:
            assert builder.rounds[c] == ref_builder.rounds[c]
        # every rank read every burn-in: the same cut-offs everywhere
        np.testing.assert_array_equal(builder.burn_in_statistic,
                                      ref_builder.burn_in_statistic)
        np.testing.assert_array_equal(builder.cutoffs, ref_builder.cutoffs)
    assert not osp.exists(str(path) + '.build')
    assert not osp.exists(str(path) + '.partial')


def test_regression_labels_split_over_ranks_make_the_one_rank_bank(
        ccgan, regressor, tmp_path):
    setup = regression(ccgan, regressor)
    (one, ), ref = run_ranks(setup, 1, tmp_path / 'one')
    assert any(len(rounds) > 1 for rounds in one.rounds.values())
    builders, bank = run_ranks(setup, 2, tmp_path / 'two')
    assert bank.content_hash() == ref.content_hash()
    assert bank.meta['filter_cutoffs'] == ref.meta['filter_cutoffs']
    # the pooled cut-off: each rank drew its labels' burn-in, all read all
    assert builders[1].draws[:2] == [16, 16]
    for b in builders:
        np.testing.assert_array_equal(b.cutoffs, one.cutoffs)


SUBSAMPLE = dict(epochs=2, batch_size=16, hidden_dims=(16, 8), dropout=0.0,
                 lr=1e-3, lr_decay_epochs=(), burn_in=12)


@pytest.mark.parametrize('cache', [False, True])
def test_cdr_rs_is_fitted_once_and_shared(gan, teacher, tmp_path,
                                          monkeypatch, cache):
    gen = torch.Generator().manual_seed(3)
    images = torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8,
                           generator=gen)
    real = TensorImages(images, torch.arange(40) % NUM_CLASSES)
    dre_cache = str(tmp_path / 'cache' / 'dre.pth') if cache else None
    setup = classification(gan, teacher, subsample=SUBSAMPLE,
                           dre_cache=dre_cache)
    fits = []
    fit = BaseBankBuilder.fit_subsampler

    def counted_fit(self, real):
        fits.append(self.rank)
        return fit(self, real)

    monkeypatch.setattr(BaseBankBuilder, 'fit_subsampler', counted_fit)
    _, ref = run_ranks(setup, 1, tmp_path / 'one', real)
    assert fits == [0]
    assert osp.isfile(dre_cache) if cache else True
    fits.clear()
    # with the cache, the second build loads the first one's model
    builders, bank = run_ranks(setup, 2, tmp_path / 'two', real)
    assert fits == ([] if cache else [0])
    assert bank.content_hash() == ref.content_hash()
    for name, value in builders[0].dre.state_dict().items():
        torch.testing.assert_close(builders[1].dre.state_dict()[name], value,
                                   rtol=0, atol=0)
    np.testing.assert_array_equal(builders[0].max_ratios,
                                  builders[1].max_ratios)


@pytest.mark.parametrize('resume_world', [1, 3])
def test_a_killed_rank_resumes_to_the_same_bank_with_any_world(
        gan, teacher, reference, tmp_path, monkeypatch, resume_world):
    """Rank 1 of 2 dies while filling its third class (after rank 0
    filled all of its own); a build with another number of ranks draws
    only the missing classes and makes the one-rank bank."""
    _, ref = reference
    path = tmp_path / 'bank'
    builders = builders_of(classification(gan, teacher), 2)
    for builder in builders:
        builder.prepare(str(path), 'key', dict(test=True))
    for builder in builders:
        builder.draw_burn_in()
    builders[0].fill()
    fill_condition = BaseBankBuilder._fill_condition

    def dying(self, c, draw):
        if c == 5:
            raise KeyboardInterrupt('killed')
        return fill_condition(self, c, draw)

    monkeypatch.setattr(BaseBankBuilder, '_fill_condition', dying)
    with pytest.raises(KeyboardInterrupt):
        builders[1].fill()
    assert sorted(builders[1].rounds) == [1, 3]
    monkeypatch.undo()

    builders, bank = run_ranks(
        classification(gan, teacher), resume_world, path)
    assert bank.content_hash() == ref.content_hash()
    assert sorted(c for b in builders for c in b.rounds) == [5, 7, 9]
    assert sum(b.draws.count(8) for b in builders) == 0  # no burn-in
    assert not osp.exists(str(path) + '.build')


def test_a_rank_that_does_not_see_the_build_folder_says_so(
        gan, teacher, tmp_path):
    builders = builders_of(classification(gan, teacher), 2)
    builders[0].prepare(str(tmp_path / 'bank'), 'key', {})
    builders[1].prepare(str(tmp_path / 'elsewhere'), 'key', {})
    with pytest.raises(BankError, match='shared storage'):
        builders[1].draw_burn_in()
    builders[1].prepare(str(tmp_path / 'bank'), 'key', {})
    builders[1].seed = 1
    with pytest.raises(BankError, match='other settings than rank 0'):
        builders[1].draw_burn_in()


def _rank(rank, world, store, options, paths, queue):
    """One rank of a gloo group: a build, then one whose rank 1 fails."""
    from tiny_gans import tiny_gan, tiny_teacher
    torch.set_num_threads(1)
    gan, teacher = tiny_gan(), tiny_teacher()
    dist.init_process_group(
        'gloo', init_method=f'file://{store}', rank=rank, world_size=world,
        timeout=timedelta(seconds=20))
    builder = make_bank_builder(
        gan, TeacherAdapter(teacher), rank=rank, world_size=world,
        log=lambda line: None, **options)
    bank = builder.build(paths[0], 'key', dict(test=True))
    queue.put(('built', rank, bank.content_hash(), sorted(builder.rounds)))
    if rank == 1:  # a broken generator: rank 1 fails in its burn-in
        with torch.no_grad():
            for param in gan.generator_ema.parameters():
                param.fill_(float('nan'))
    start = time.time()
    try:
        make_bank_builder(
            gan, TeacherAdapter(teacher), rank=rank, world_size=world,
            log=lambda line: None, **options).build(paths[1], 'key', {})
        queue.put(('failed', rank, None, time.time() - start))
    except Exception as err:  # noqa: B902 (gloo raises a RuntimeError)
        queue.put(('failed', rank, type(err).__name__,
                   time.time() - start))


def test_two_gloo_processes_build_the_one_rank_bank(gan, teacher, reference,
                                                    tmp_path):
    """``build`` on 2 real ranks (gloo on CPU); then rank 1 fails, and
    rank 0, at the next barrier, does not wait forever."""
    _, ref = reference
    _, _, options = classification(gan, teacher)
    ctx = mp.get_context('spawn')
    queue = ctx.SimpleQueue()
    paths = [str(tmp_path / 'bank'), str(tmp_path / 'broken')]
    mp.start_processes(
        _rank,
        args=(2, str(tmp_path / 'store'), options, paths, queue),
        nprocs=2, start_method='spawn')
    results = sorted(queue.get() for _ in range(4))
    built = [r for r in results if r[0] == 'built']
    assert [r[2] for r in built] == [ref.content_hash()] * 2
    assert [r[3] for r in built] == [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]
    failed = {r[1]: r for r in results if r[0] == 'failed'}
    assert failed[1][2] == 'FloatingPointError'
    assert failed[0][2] is not None and failed[0][3] < 60


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
