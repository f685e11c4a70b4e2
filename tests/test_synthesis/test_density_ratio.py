# Copyright (c) cgankd_plugin contributors.
import math

import numpy as np
import pytest
import torch

from cgankd_plugin.synthesis.density_ratio import (
    DensityRatioMLP, estimate_max_ratio, estimate_max_ratios,
    fit_density_ratio, penalized_softplus_loss, predict_density_ratio,
    rejection_sample)

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
    round, so the ratio must depend on the label.
    """
    gen = torch.Generator().manual_seed(seed)
    a, b = torch.zeros(2), torch.full((2, ), 1.5)
    modes = {0: (a, b), 1: (b, a)}

    def draw(mu):
        return mu + torch.randn(n, 2, generator=gen)

    real = torch.cat([draw(modes[c][0]) for c in (0, 1)])
    fake = torch.cat([draw(modes[c][1]) for c in (0, 1)])
    labels = torch.arange(2).repeat_interleave(n)
    return real, fake, labels, modes, gen


def test_fitted_ratio_prefers_real_mode_and_sampling_follows():
    real, fake, labels, modes, gen = make_toy(500, seed=0)
    model = fit_density_ratio(real,
                              labels,
                              fake,
                              labels,
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
    fake0 = fake[labels == 0]
    ratios = predict_density_ratio(model, fake0, torch.zeros(len(fake0)))
    accept = rejection_sample(ratios, estimate_max_ratio(ratios),
                              np.random.default_rng(0))
    pts = fake0.numpy()
    near = (np.linalg.norm(pts - modes[0][0].numpy(), axis=1)
            < np.linalg.norm(pts - modes[0][1].numpy(), axis=1))
    assert near.sum() > 30 and (~near).sum() > 30
    assert accept[near].mean() > accept[~near].mean() + 0.2


def test_fit_is_deterministic_given_rng():
    real, fake, labels, _, _ = make_toy(64, seed=3)
    kwargs = dict(num_classes=2,
                  epochs=2,
                  batch_size=32,
                  lr=1e-3,
                  hidden_dims=(16, ),
                  dropout=0.5)
    state = torch.random.get_rng_state()
    first = fit_density_ratio(real,
                              labels,
                              fake,
                              labels,
                              rng=torch.Generator().manual_seed(7),
                              **kwargs)
    assert torch.equal(torch.random.get_rng_state(), state)  # untouched
    second = fit_density_ratio(real,
                               labels,
                               fake,
                               labels,
                               rng=torch.Generator().manual_seed(7),
                               **kwargs)
    other = fit_density_ratio(real,
                              labels,
                              fake,
                              labels,
                              rng=torch.Generator().manual_seed(8),
                              **kwargs)
    a, b, c = (m.state_dict() for m in (first, second, other))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_fit_continuous_label_runs():
    gen = torch.Generator().manual_seed(0)
    real = torch.randn(64, 3, generator=gen)
    fake = torch.randn(128, 3, generator=gen) + 1
    y_real = torch.rand(64, generator=gen)
    y_fake = y_real.repeat(2)  # two fakes per real sample, at its label
    logs = []
    model = fit_density_ratio(real,
                              y_real,
                              fake,
                              y_fake,
                              num_classes=None,
                              epochs=3,
                              batch_size=32,
                              lr=1e-3,
                              rng=gen,
                              log_fn=logs.append,
                              **SMALL)
    out = predict_density_ratio(model, fake, y_fake)
    assert out.shape == (128, ) and torch.isfinite(out).all()
    assert len(logs) == 3 and 'epoch 3/3' in logs[-1]


def make_continuous_toy(n, seed):
    """Two label values, real and fake modes swapped between them, in 2-D.

    At y = 0.25 real ~ N(a, I) and fake ~ N(b, I); at y = 0.75 the other
    way round, so the fakes of all labels together have the density of the
    reals of all labels. Fake ``j`` is generated for real ``j``.
    """
    gen = torch.Generator().manual_seed(seed)
    a, b = torch.zeros(2), torch.full((2, ), 1.5)
    labels = torch.tensor([0.25, 0.75]).repeat_interleave(n)
    low = (labels < 0.5)[:, None]
    real = torch.where(low, a, b) + torch.randn(2 * n, 2, generator=gen)
    fake = torch.where(low, b, a) + torch.randn(2 * n, 2, generator=gen)
    return real, fake, labels


def test_continuous_ratio_is_conditional():
    """The ratio is ``p_real(x | y) / p_fake(x | y)``: real samples are
    compared with fakes of their own label.

    Paired with fakes of any label, the model would estimate ``p_real(x |
    y) / p_fake(x)``, at most 2 here (half the fakes lie at each mode);
    the conditional ratio at a real mode is ``exp(1.5 ** 2) = 9.5``.
    """
    real, fake, labels = make_continuous_toy(500, seed=0)
    model = fit_density_ratio(real,
                              labels,
                              fake,
                              labels,
                              num_classes=None,
                              epochs=50,
                              batch_size=64,
                              lr=1e-3,
                              hidden_dims=(64, 32),
                              dropout=0.0,
                              lr_decay_epochs=(),
                              rng=torch.Generator().manual_seed(1))
    held_real, held_fake, held_labels = make_continuous_toy(200, seed=2)
    r_real = predict_density_ratio(model, held_real, held_labels)
    r_fake = predict_density_ratio(model, held_fake, held_labels)
    assert r_real.median() > 3.0, r_real.median()
    assert r_fake.mean() < 1.0, r_fake.mean()


def test_fit_rejects_continuous_fakes_of_other_labels():
    real, fake, labels = make_continuous_toy(8, seed=0)
    kwargs = dict(num_classes=None, epochs=1, **SMALL)
    with pytest.raises(ValueError, match=r'real sample j % 16'):
        fit_density_ratio(real, labels, fake, labels.flip(0), **kwargs)
    with pytest.raises(ValueError, match='at least one fake'):
        fit_density_ratio(real, labels, fake[:8], labels[:8], **kwargs)


def test_fit_rejects_class_without_fakes():
    real, fake, labels, _, _ = make_toy(8, seed=0)
    with pytest.raises(ValueError, match=r'classes \[1\]'):
        fit_density_ratio(real,
                          labels,
                          fake[:8],
                          labels[:8],
                          num_classes=2,
                          epochs=1,
                          **SMALL)


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


def test_estimate_max_ratio():
    ratios = torch.tensor([0.5, 3.0, 1.0, 2.0])
    assert estimate_max_ratio(ratios) == 3.0
    with pytest.raises(ValueError, match='collapsed'):
        estimate_max_ratio(np.zeros(10))
    with pytest.raises(ValueError, match='empty'):
        estimate_max_ratio(np.zeros(0))


def test_estimate_max_ratios_one_bound_per_condition():
    burn_in = [np.array([0.5, 2.0]), torch.tensor([30.0, 10.0]), [0.0, 0.0]]
    # a condition of zero ratios only takes the largest bound of all
    np.testing.assert_array_equal(estimate_max_ratios(burn_in),
                                  [2.0, 30.0, 30.0])
    with pytest.raises(ValueError, match='collapsed'):
        estimate_max_ratios([np.zeros(3), np.zeros(2)])
    with pytest.raises(ValueError, match='non-empty'):
        estimate_max_ratios([np.ones(3), np.zeros(0)])
    with pytest.raises(ValueError, match='NaN'):
        estimate_max_ratios([np.array([1.0, np.nan])])
