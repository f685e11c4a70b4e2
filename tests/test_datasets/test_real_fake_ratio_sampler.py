# Copyright (c) cgankd_plugin contributors.
"""RealFakeRatioSampler: the share of fake samples drawn each epoch."""
from collections import Counter

import pytest
from mmengine.dataset import DefaultSampler
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmrazor.registry import DATA_SAMPLERS
from test_datasets.test_synthetic_mix_dataset import (NUM_FAKE, NUM_REAL,
                                                      _RealSet, write_bank)

from cgankd_plugin.datasets.crd_contrast_dataset import CRDContrastDataset
from cgankd_plugin.datasets.samplers import real_fake_ratio_sampler
from cgankd_plugin.datasets.samplers import RealFakeRatioSampler
from cgankd_plugin.datasets.synthetic_mix_dataset import SyntheticMixDataset


class _Mix:
    """What the sampler reads of a ``SyntheticMixDataset``."""

    def __init__(self, num_real: int, num_fake: int) -> None:
        self.num_real = num_real
        self.num_fake = num_fake

    def __len__(self) -> int:
        return self.num_real + self.num_fake


class _Wrapper:
    """A wrapper along ``.dataset``, of the wrapped length or not."""

    def __init__(self, dataset, extra: int = 0) -> None:
        self.dataset = dataset
        self.extra = extra

    def __len__(self) -> int:
        return len(self.dataset) + self.extra


def _on_rank(monkeypatch, rank: int, world_size: int) -> None:
    monkeypatch.setattr(real_fake_ratio_sampler, 'get_dist_info',
                        lambda: (rank, world_size))


@pytest.mark.parametrize('num_real,num_fake,fraction,per_epoch', [
    (100, 300, 0.5, None),   # both pools large enough
    (100, 300, 0.25, None),
    (100, 300, 0.0, None),   # no fake sample at all
    (30, 7, 0.9, None),      # fake pool cycled (33 of 7)
    (10, 50, 0.3, 97),       # real pool cycled (68 of 10), n odd
    (10, 50, 0.05, 33),      # round(1.65) = 2
])
def test_fraction_and_no_repeats(monkeypatch, num_real, num_fake, fraction,
                                 per_epoch):
    _on_rank(monkeypatch, 0, 1)
    mix = _Mix(num_real, num_fake)
    sampler = RealFakeRatioSampler(
        mix, fake_fraction=fraction, num_samples_per_epoch=per_epoch, seed=3)
    n = len(mix) if per_epoch is None else per_epoch
    num_fake_drawn = round(n * fraction)
    assert len(sampler) == n
    assert sampler.num_fake_per_epoch == num_fake_drawn
    for epoch in range(3):
        sampler.set_epoch(epoch)
        indices = list(sampler)
        assert len(indices) == n
        assert all(0 <= i < len(mix) for i in indices)
        fake = [i for i in indices if i >= num_real]
        real = [i for i in indices if i < num_real]
        assert len(fake) / n == num_fake_drawn / n
        for drawn, pool in ((real, num_real), (fake, num_fake)):
            counts = Counter(drawn)
            if len(drawn) <= pool:  # without replacement
                assert max(counts.values(), default=1) == 1
            else:  # whole permutations, then part of one more
                assert len(counts) == pool
                assert max(counts.values()) - min(counts.values()) <= 1
        # the two kinds are mixed, not real first then fake
        if 0 < len(fake) < n:
            assert indices != sorted(indices, key=lambda i: i >= num_real)


@pytest.mark.parametrize('num_fake', [1000, 250])
def test_fakes_are_fresh_across_epochs(monkeypatch, num_fake):
    """A run's epochs walk the fake pool: no fake comes twice before every
    fake came once (the old per-epoch draw repeated ~40 % of them within
    five epochs of 100 from 1,000)."""
    _on_rank(monkeypatch, 0, 1)
    sampler = RealFakeRatioSampler(
        _Mix(50, num_fake), fake_fraction=2 / 3, num_samples_per_epoch=150,
        seed=5)
    seen = []
    for epoch in range(5):
        sampler.set_epoch(epoch)
        seen += [i - 50 for i in sampler if i >= 50]
    assert len(seen) == 500
    if num_fake >= 500:  # a bank larger than the run's draws
        assert len(set(seen)) == 500
    else:  # two epochs of fresh fakes, then each fake exactly twice
        assert len(set(seen[:200])) == 200
        assert set(Counter(seen).values()) == {2}
    # an epoch read again (a resumed run) is the same; few cycles are kept
    sampler.set_epoch(1)
    again = [i - 50 for i in sampler if i >= 50]
    assert sorted(again) == sorted(seen[100:200])
    assert len(sampler._fakes.cycles) <= 2


def test_an_epoch_of_real_set_multiples(monkeypatch):
    """``real_set_multiple=3``: an epoch of three real sets, whatever the
    real set's size; with ``num_samples_per_epoch`` as well: refused."""
    _on_rank(monkeypatch, 0, 1)
    for num_real in (40, 200):
        sampler = RealFakeRatioSampler(
            _Mix(num_real, 5000), fake_fraction=2 / 3,
            real_set_multiple=3, seed=0)
        assert len(sampler) == 3 * num_real
        assert sampler.num_fake_per_epoch == 2 * num_real
    with pytest.raises(ValueError, match='not both'):
        RealFakeRatioSampler(_Mix(4, 4), num_samples_per_epoch=8,
                             real_set_multiple=2, seed=0)
    with pytest.raises(ValueError, match='real_set_multiple'):
        RealFakeRatioSampler(_Mix(4, 4), real_set_multiple=0, seed=0)


def test_deterministic_for_seed_and_epoch(monkeypatch):
    _on_rank(monkeypatch, 0, 1)
    mix = _Mix(40, 60)

    def order(seed, epoch):
        sampler = RealFakeRatioSampler(mix, fake_fraction=0.5, seed=seed)
        sampler.set_epoch(epoch)
        return list(sampler)

    assert order(0, 0) == order(0, 0)
    assert order(0, 1) == order(0, 1)
    assert order(0, 0) != order(0, 1)
    assert order(0, 0) != order(1, 0)
    # the same sampler iterated twice in one epoch gives the same order
    sampler = RealFakeRatioSampler(mix, fake_fraction=0.5, seed=5)
    assert list(sampler) == list(sampler)


def test_no_fraction_is_default_sampler(monkeypatch):
    _on_rank(monkeypatch, 0, 1)
    mix = _Mix(40, 60)
    ours = RealFakeRatioSampler(mix, seed=7)
    theirs = DefaultSampler(mix, shuffle=True, seed=7)
    for epoch in (0, 4):
        ours.set_epoch(epoch)
        theirs.set_epoch(epoch)
        assert list(ours) == list(theirs)
    assert len(ours) == len(theirs) == len(mix)
    # with another epoch length: uniform, no repeats until all are drawn
    indices = list(RealFakeRatioSampler(mix, num_samples_per_epoch=150,
                                        seed=7))
    assert len(indices) == 150 and len(set(indices[:100])) == 100


def test_seed_none_is_synchronised(monkeypatch):
    monkeypatch.setattr(real_fake_ratio_sampler, 'sync_random_seed',
                        lambda: 1234)
    assert RealFakeRatioSampler(_Mix(5, 5), fake_fraction=0.5).seed == 1234


@pytest.mark.parametrize('per_epoch,round_up', [(100, True), (101, True),
                                                (101, False)])
def test_two_ranks_partition_an_epoch(monkeypatch, per_epoch, round_up):
    mix = _Mix(40, 60)
    shares = []
    for rank in (0, 1):
        _on_rank(monkeypatch, rank, 2)
        sampler = RealFakeRatioSampler(
            mix, fake_fraction=0.3, num_samples_per_epoch=per_epoch, seed=11,
            round_up=round_up)
        sampler.set_epoch(2)
        shares.append(list(sampler))
        assert len(sampler) == len(shares[-1])
        epoch = sampler.epoch_indices().tolist()
    assert len(epoch) == per_epoch
    merged = [i for pair in zip(*shares) for i in pair]
    if round_up:
        # equal shares; the odd epoch is padded with its first index
        assert len(shares[0]) == len(shares[1]) == -(-per_epoch // 2)
        assert merged == (epoch + epoch)[:2 * len(shares[0])]
    else:
        assert len(shares[0]) + len(shares[1]) == per_epoch
        assert merged + shares[0][len(shares[1]):] == epoch
    assert Counter(shares[0] + shares[1]) >= Counter(epoch)


def test_errors():
    with pytest.raises(TypeError, match=r'RealFakeRatioSampler\.dataset'):
        RealFakeRatioSampler(list(range(10)), fake_fraction=0.5, seed=0)
    with pytest.raises(TypeError, match=r'RealFakeRatioSampler\.dataset.*'
                       'keeps the indices'):
        RealFakeRatioSampler(_Wrapper(_Mix(5, 5), extra=3), seed=0)
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError,
                           match=r'RealFakeRatioSampler\.fake_fraction'):
            RealFakeRatioSampler(_Mix(5, 5), fake_fraction=bad, seed=0)
    with pytest.raises(ValueError,
                       match=r'RealFakeRatioSampler\.fake_fraction.*'
                       'num_fake=0'):
        RealFakeRatioSampler(_Mix(5, 0), fake_fraction=0.2, seed=0)
    with pytest.raises(ValueError,
                       match=r'RealFakeRatioSampler\.num_samples_per_epoch'):
        RealFakeRatioSampler(_Mix(5, 5), num_samples_per_epoch=0, seed=0)
    # no fake sample wanted, none there: fine
    assert len(RealFakeRatioSampler(_Mix(5, 0), fake_fraction=0.0,
                                    seed=0)) == 5


def test_looks_through_wrappers(monkeypatch):
    _on_rank(monkeypatch, 0, 1)
    wrapped = _Wrapper(_Wrapper(_Mix(10, 30)))
    sampler = RealFakeRatioSampler(wrapped, fake_fraction=0.25, seed=0)
    assert (sampler.num_real, sampler.num_fake) == (10, 30)
    assert sum(i >= 10 for i in sampler) == 10
    # mmrazor's CRD wrapper, as configs use it (no bank needed to build)
    crd = CRDContrastDataset(
        dataset=dict(type='SyntheticMixDataset', dataset=_RealSet(),
                     num_fake=NUM_FAKE),
        neg_num=4, percent=1.0)
    sampler = RealFakeRatioSampler(crd, fake_fraction=0.5, seed=0)
    assert (sampler.num_real, sampler.num_fake) == (NUM_REAL, NUM_FAKE)
    n = NUM_REAL + NUM_FAKE
    assert sum(i >= NUM_REAL for i in sampler) == round(n * 0.5)


def test_built_from_the_registry():
    sampler = DATA_SAMPLERS.build(
        dict(type='RealFakeRatioSampler', dataset=_Mix(6, 4),
             fake_fraction=0.5, seed=0))
    assert isinstance(sampler, RealFakeRatioSampler)
    assert sampler.fake_fraction == 0.5
    with DefaultScope.overwrite_default_scope('mmrazor'):
        sampler = MMENGINE_DATA_SAMPLERS.build(
            dict(type='RealFakeRatioSampler', dataset=_Mix(6, 4), seed=0))
    assert isinstance(sampler, RealFakeRatioSampler)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        sampler = MMENGINE_DATA_SAMPLERS.build(
            dict(type='mmrazor.RealFakeRatioSampler', dataset=_Mix(6, 4),
                 seed=0))
    assert isinstance(sampler, RealFakeRatioSampler)


@pytest.mark.parametrize('scope,sampler_type', [
    ('mmpretrain', 'mmrazor.RealFakeRatioSampler'),
    ('mmrazor', 'RealFakeRatioSampler'),
])
def test_runner_dataloader_batches(tmp_path, scope, sampler_type):
    write_bank(tmp_path / 'bank')
    mix = SyntheticMixDataset(_RealSet(), NUM_FAKE,
                              bank_dir=str(tmp_path / 'bank'))
    n = len(mix)  # 45: 22 fake (round(22.5) rounds to even), 23 real
    with DefaultScope.overwrite_default_scope(scope):
        loader = Runner.build_dataloader(
            dict(batch_size=5, num_workers=0, dataset=mix,
                 sampler=dict(type=sampler_type, fake_fraction=0.5),
                 # batches as lists: real and fake infos differ in keys
                 collate_fn=dict(type=list)),
            seed=0)
    assert isinstance(loader.sampler, RealFakeRatioSampler)
    assert loader.sampler.seed == 0
    assert len(loader) == 9
    for epoch in (0, 1):
        loader.sampler.set_epoch(epoch)
        samples = [s for batch in loader for s in batch]
        assert len(samples) == n
        idx = [s['sample_idx'] for s in samples]
        assert all(s['is_fake'] == (s['sample_idx'] >= NUM_REAL)
                   for s in samples)
        fake = [i for i in idx if i >= NUM_REAL]
        assert len(fake) == round(n * 0.5) == 22
        assert len(set(fake)) == 22  # 22 of the bank's 25, no repeat
        assert len(set(idx)) == n - 3  # 23 real of 20: 3 seen twice
        assert idx == loader.sampler.epoch_indices().tolist()
