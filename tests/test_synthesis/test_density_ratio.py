# Copyright (c) cgankd_plugin contributors.
import inspect
import math

import numpy as np
import pytest
import torch

from cgankd_plugin.synthesis.density_ratio import (
    DensityRatioMLP, RejectionSampler, fit_density_ratio,
    penalized_softplus_loss, predict_density_ratio, rejection_sample)
from cgankd_plugin.synthesis.density_ratio import fitting

SMALL = dict(hidden_dims=(32, 16), dropout=0.0, lr_decay_epochs=())


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def softplus(x):
    return math.log1p(math.exp(x))


def test_loss_on_known_values():
    real = torch.tensor([1.0, 3.0])
    fake = torch.tensor([0.5, 2.0])
    sp = (sum(sigmoid(r) * r - softplus(r)
              for r in (0.5, 2.0)) / 2 - sum(sigmoid(r)
                                             for r in (1.0, 3.0)) / 2)
    mean_fake = 1.25
    expected = sp + 0.01 * (mean_fake - 1)**2
    got = penalized_softplus_loss(real, fake)
    assert got.item() == pytest.approx(expected, rel=1e-6)
    got = penalized_softplus_loss(real, fake, penalty=2.0)
    assert got.item() == pytest.approx(sp + 2.0 * 0.0625, rel=1e-6)
    # the penalty vanishes when the fake ratios average 1
    ones = torch.ones(4)
    assert penalized_softplus_loss(ones, ones).item() == pytest.approx(
        sigmoid(1) - softplus(1) - sigmoid(1), rel=1e-6)


def test_mlp_shapes_and_non_negative():
    torch.manual_seed(0)
    model = DensityRatioMLP(6, num_classes=3, hidden_dims=(16, 8)).eval()
    out = model(torch.randn(5, 6), torch.tensor([0, 1, 2, 0, 1]))
    assert out.shape == (5, ) and (out >= 0).all()
    assert model.label_embed.weight.shape == (3, 3)  # official: C x C
    cont = DensityRatioMLP(6, None, hidden_dims=(16, ), embed_dim=4).eval()
    out = cont(torch.randn(5, 6), torch.rand(5))
    assert out.shape == (5, ) and (out >= 0).all()
    with pytest.raises(ValueError, match='num_groups'):
        DensityRatioMLP(6, 3, hidden_dims=(12, ))
    with pytest.raises(ValueError, match='6 features'):
        model(torch.randn(2, 5), torch.tensor([0, 1]))


def make_toy(n, seed):
    """Per class c: real ~ N(mu_c, I) and fake ~ N(nu_c, I), in 2-D.

    Class 0: real at (0, 0), fake at (1.5, 1.5); class 1 the other way
    round, so the ratio must depend on the label. Returns the real set,
    the fake source (fresh fakes at any labels) and the modes.
    """
    gen = torch.Generator().manual_seed(seed)
    a, b = torch.zeros(2), torch.full((2, ), 1.5)
    modes = {0: (a, b), 1: (b, a)}
    labels = torch.arange(2).repeat_interleave(n)
    real_modes = torch.stack([modes[c][0] for c in (0, 1)])
    real = real_modes[labels] + torch.randn(2 * n, 2, generator=gen)
    return real, labels, toy_source(modes, seed + 100), modes, gen


def toy_source(modes, seed):
    """Fresh fakes of class c around its fake mode, at every call."""
    gen = torch.Generator().manual_seed(seed)
    fake_modes = torch.stack([modes[c][1] for c in sorted(modes)])

    def source(labels):
        return fake_modes[labels.long()] + torch.randn(
            len(labels), 2, generator=gen)

    return source


def test_fitted_ratio_prefers_real_mode_and_sampling_follows():
    real, labels, source, modes, gen = make_toy(500, seed=0)
    model = fit_density_ratio(real,
                              labels,
                              source,
                              num_classes=2,
                              epochs=50,
                              batch_size=128,
                              lr=1e-3,
                              rng=torch.Generator().manual_seed(1),
                              **SMALL)
    assert not model.training
    for c, (real_mode, fake_mode) in modes.items():
        cls = torch.full((200, ), c)
        near_real = real_mode + 0.3 * torch.randn(200, 2, generator=gen)
        near_fake = fake_mode + 0.3 * torch.randn(200, 2, generator=gen)
        r_real = predict_density_ratio(model, near_real, cls).mean()
        r_fake = predict_density_ratio(model, near_fake, cls).mean()
        assert r_real > 2 * r_fake, (c, r_real, r_fake)

    # rejection sampling keeps more of the class-0 fakes near the real mode
    fake0 = source(torch.zeros(500, dtype=torch.long))
    ratios = predict_density_ratio(model, fake0, torch.zeros(len(fake0)))
    accept = RejectionSampler(ratios.max())(ratios,
                                            np.random.default_rng(0))
    pts = fake0.numpy()
    near = (np.linalg.norm(pts - modes[0][0].numpy(), axis=1)
            < np.linalg.norm(pts - modes[0][1].numpy(), axis=1))
    assert near.sum() > 30 and (~near).sum() > 30
    assert accept[near].mean() > accept[~near].mean() + 0.2


def test_fit_is_deterministic_given_rng():
    real, labels, _, modes, _ = make_toy(64, seed=3)
    kwargs = dict(num_classes=2,
                  epochs=2,
                  batch_size=32,
                  lr=1e-3,
                  hidden_dims=(16, ),
                  dropout=0.5)

    def fit(seed):
        return fit_density_ratio(real, labels, toy_source(modes, 0),
                                 rng=torch.Generator().manual_seed(seed),
                                 flipped_feats=-real, **kwargs)

    state = torch.random.get_rng_state()
    first = fit(7)
    assert torch.equal(torch.random.get_rng_state(), state)  # untouched
    a, b, c = (m.state_dict() for m in (first, fit(7), fit(8)))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_fit_draws_fresh_fakes_at_every_step():
    """The fake source is asked, at every step, for one new fake at each
    label of the real batch (the official loop generates them there)."""
    real, labels, source, _, _ = make_toy(20, seed=0)  # 40 samples
    calls = []

    def counted(batch_labels):
        calls.append(batch_labels.clone())
        return source(batch_labels)

    fit_density_ratio(real, labels, counted, num_classes=2, epochs=3,
                      batch_size=16, rng=torch.Generator().manual_seed(0),
                      **SMALL)
    # 3 epochs of 40 samples in batches of 16: 16, 16, 8
    assert [len(c) for c in calls] == [16, 16, 8] * 3
    assert all(c.device.type == 'cpu' for c in calls)  # host labels
    for epoch in range(3):
        seen = torch.cat(calls[3 * epoch:3 * epoch + 3])
        assert torch.equal(seen.sort().values, labels.sort().values)
    # each epoch in another order: the batches are the real ones, shuffled
    assert not torch.equal(torch.cat(calls[:3]), torch.cat(calls[3:6]))


class _SpyMLP(DensityRatioMLP):
    """Records the features of every forward call (real, then fake)."""
    inputs = []

    def forward(self, feats, labels):
        self.inputs.append(feats.detach().clone())
        return super().forward(feats, labels)


@pytest.mark.parametrize('flip', [True, False])
def test_real_features_are_flipped_at_random(monkeypatch, flip):
    """With ``flipped_feats`` each real sample of a step comes plain or
    mirrored with probability 1/2, drawn again every epoch; without, it
    always comes plain. Feature 0 says which (+1 plain, -1 flipped),
    feature 1 which sample."""
    num = 200
    index = torch.arange(num, dtype=torch.float32)
    real = torch.stack([torch.ones(num), index], 1)
    flipped = torch.stack([-torch.ones(num), index], 1) if flip else None
    monkeypatch.setattr(fitting, 'DensityRatioMLP', _SpyMLP)
    _SpyMLP.inputs = []
    fit_density_ratio(real, torch.zeros(num, dtype=torch.long),
                      lambda y: torch.zeros(len(y), 2), num_classes=1,
                      epochs=2, batch_size=50, flipped_feats=flipped,
                      rng=torch.Generator().manual_seed(0), **SMALL)
    real_inputs = _SpyMLP.inputs[0::2]  # each step: real, then fake
    assert len(real_inputs) == 8
    shares = []
    for epoch in (real_inputs[:4], real_inputs[4:]):
        feats = torch.cat(epoch)
        # every sample once per epoch, plain or flipped
        assert torch.equal(feats[:, 1].sort().values, index)
        side = feats[feats[:, 1].argsort(), 0]
        shares.append(side)
    if not flip:
        assert all(torch.all(side == 1) for side in shares)
        return
    for side in shares:
        assert 0.35 < (side < 0).float().mean() < 0.65
    assert not torch.equal(shares[0], shares[1])  # drawn per epoch


def test_lr_decays_at_the_official_epochs_by_default(monkeypatch):
    """Official cDR-RS: 200 epochs, lr / 10 at epochs 80 and 150."""
    params = inspect.signature(fit_density_ratio).parameters
    assert params['epochs'].default == 200
    assert tuple(params['lr_decay_epochs'].default) == (80, 150)
    assert params['lr_decay_factor'].default == 0.1
    assert params['batch_size'].default == 256
    lrs = []

    class RecordingAdam(torch.optim.Adam):
        def step(self, *args, **kwargs):
            lrs.append(self.param_groups[0]['lr'])
            return super().step(*args, **kwargs)

    monkeypatch.setattr(torch.optim, 'Adam', RecordingAdam)
    real, labels = torch.randn(2, 2), torch.tensor([0, 1])
    fit_density_ratio(real, labels, lambda y: torch.randn(len(y), 2),
                      num_classes=2, epochs=160, batch_size=2, lr=1.0,
                      hidden_dims=(8, ), dropout=0.0)
    assert len(lrs) == 160  # one step an epoch
    assert lrs[79] == 1.0 and lrs[80] == pytest.approx(0.1)
    assert lrs[149] == pytest.approx(0.1)
    assert lrs[150] == pytest.approx(0.01) and lrs[-1] == lrs[150]


def test_fit_and_predict_stay_on_the_given_device():
    """Everything on the ``meta`` device: any copy to the host
    (``.cpu()``, ``float(loss)`` every step) or tensor made on the CPU
    and mixed in would raise here."""
    meta = torch.device('meta')
    real = torch.empty(40, 6, device=meta)
    labels = torch.arange(40) % 3
    calls = []

    def source(y):
        calls.append(y)
        return torch.empty(len(y), 6, device=meta)

    model = fit_density_ratio(real, labels, source, num_classes=3,
                              epochs=2, batch_size=16,
                              flipped_feats=torch.empty_like(real),
                              rng=torch.Generator().manual_seed(0),
                              **SMALL)
    assert len(calls) == 6
    assert all(p.device == meta for p in model.parameters())
    ratios = predict_density_ratio(model, real, labels.to(meta))
    assert ratios.device == meta and ratios.shape == (40, )
    empty = predict_density_ratio(model, real[:0], labels[:0])
    assert empty.device == meta


def test_fit_continuous_label_runs():
    gen = torch.Generator().manual_seed(0)
    real = torch.randn(64, 3, generator=gen)
    y_real = torch.rand(64, generator=gen)
    logs = []
    model = fit_density_ratio(real,
                              y_real,
                              lambda y: torch.randn(len(y), 3,
                                                    generator=gen) + 1,
                              num_classes=None,
                              epochs=3,
                              batch_size=32,
                              lr=1e-3,
                              rng=gen,
                              log_fn=logs.append,
                              **SMALL)
    out = predict_density_ratio(model, real, y_real)
    assert out.shape == (64, ) and torch.isfinite(out).all()
    assert len(logs) == 3 and 'epoch 3/3' in logs[-1]
    assert 'loss' in logs[-1]


def make_continuous_toy(n, seed):
    """Two label values, real and fake modes swapped between them, in 2-D.

    At y = 0.25 real ~ N(a, I) and fake ~ N(b, I); at y = 0.75 the other
    way round, so the fakes of all labels together have the density of the
    reals of all labels. Returns the real set and a source of fakes.
    """
    gen = torch.Generator().manual_seed(seed)
    a, b = torch.zeros(2), torch.full((2, ), 1.5)
    labels = torch.tensor([0.25, 0.75]).repeat_interleave(n)
    low = (labels < 0.5)[:, None]
    real = torch.where(low, a, b) + torch.randn(2 * n, 2, generator=gen)

    def source(y):
        fake_mode = torch.where((y < 0.5)[:, None], b, a)
        return fake_mode + torch.randn(len(y), 2, generator=gen)

    return real, labels, source


def test_continuous_ratio_is_conditional():
    """The ratio is ``p_real(x | y) / p_fake(x | y)``: real samples are
    compared with fakes of their own label.

    Paired with fakes of any label, the model would estimate ``p_real(x |
    y) / p_fake(x)``, at most 2 here (half the fakes lie at each mode);
    the conditional ratio at a real mode is ``exp(1.5 ** 2) = 9.5``.
    """
    real, labels, source = make_continuous_toy(500, seed=0)
    model = fit_density_ratio(real,
                              labels,
                              source,
                              num_classes=None,
                              epochs=50,
                              batch_size=64,
                              lr=1e-3,
                              hidden_dims=(64, 32),
                              dropout=0.0,
                              lr_decay_epochs=(),
                              rng=torch.Generator().manual_seed(1))
    held_real, held_labels, held_source = make_continuous_toy(200, seed=2)
    r_real = predict_density_ratio(model, held_real, held_labels)
    r_fake = predict_density_ratio(model, held_source(held_labels),
                                   held_labels)
    assert r_real.median() > 3.0, r_real.median()
    assert r_fake.mean() < 1.0, r_fake.mean()


def test_rejection_sample_matches_ratio_over_max():
    probs = np.array([0.0, 0.25, 0.5, 1.0, 1.0])
    ratios = np.repeat(probs * 2.0, 20000)
    ratios[-20000:] = 5.0  # above M: always kept
    rng = np.random.default_rng(123)
    accept = rejection_sample(torch.from_numpy(ratios), 2.0, rng)
    assert accept.dtype == bool and accept.shape == ratios.shape
    rates = accept.reshape(len(probs), -1).mean(axis=1)
    # 5 sigma of a binomial proportion with n = 20000 is at most 0.018
    np.testing.assert_allclose(rates, probs, atol=0.018)
    assert rates[0] == 0.0 and rates[-1] == 1.0 and rates[-2] == 1.0
    again = rejection_sample(ratios, 2.0, np.random.default_rng(123))
    np.testing.assert_array_equal(again, accept)


def test_rejection_sample_rejects_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match='max_ratio'):
        rejection_sample(np.ones(3), 0.0, rng)
    with pytest.raises(ValueError, match='NaN'):
        rejection_sample(np.array([1.0, np.nan]), 1.0, rng)


def test_the_sampler_bound_starts_at_the_burn_in_and_rises():
    """``M`` starts as the burn-in's largest ratio; a later batch with a
    larger ratio raises it before that batch is sampled, so a ratio of 2
    is then kept with probability 2 / 8, not 1."""
    sampler = RejectionSampler(torch.tensor([0.5, 2.0, 1.0]).max())
    assert sampler.max_ratio == 2.0
    rng = np.random.default_rng(0)
    assert sampler(np.full(1000, 2.0), rng).all()  # r = M: always kept
    assert sampler.max_ratio == 2.0
    batch = np.full(20000, 2.0)
    batch[0] = 8.0
    accept = sampler(batch, rng)
    assert sampler.max_ratio == 8.0
    assert accept[0] and accept[1:].mean() == pytest.approx(0.25, abs=0.02)
    # a smaller batch later does not lower it
    assert sampler(np.full(20000, 2.0), rng).mean() == pytest.approx(
        0.25, abs=0.02)
    assert sampler.max_ratio == 8.0


def test_the_sampler_keeps_nothing_while_every_ratio_is_zero():
    sampler = RejectionSampler(0.0)
    assert not sampler(np.zeros(5), np.random.default_rng(0)).any()
    assert sampler.max_ratio == 0.0
    # the first positive ratio sets M
    keep = sampler(np.array([0.0, 3.0]), np.random.default_rng(0))
    assert keep.tolist() == [False, True] and sampler.max_ratio == 3.0
    with pytest.raises(ValueError, match='max_ratio'):
        RejectionSampler(-1.0)
    with pytest.raises(ValueError, match='max_ratio'):
        RejectionSampler(float('nan'))
    with pytest.raises(ValueError, match='NaN'):
        sampler(np.array([np.nan]), np.random.default_rng(0))
