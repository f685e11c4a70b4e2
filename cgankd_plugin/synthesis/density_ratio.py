# Copyright (c) cgankd_plugin contributors.
"""cDR-RS: conditional density-ratio estimation and rejection sampling.

Ding et al., "Efficient subsampling of realistic images from GANs
conditional on a class or a continuous variable". A small MLP on features
of a frozen, pre-trained CNN estimates the conditional density ratio
``r(x | y) = p_real(x | y) / p_fake(x | y)``; it is trained with the
penalised Softplus loss (:func:`penalized_softplus_loss`). Fake images are
then kept with probability ``r / M`` (:func:`rejection_sample`), where
``M`` is the largest ratio of a burn-in draw of the same condition (class
or label value; :func:`estimate_max_ratio`, :func:`estimate_max_ratios`).

The design follows the authors' code (``UBCDingXin/cDR-RS``): the label is
embedded (an ``nn.Embedding(C, C)`` for classes) and concatenated in front
of the features; hidden layers are Linear + GroupNorm(8) + ReLU + Dropout
(0.5); the output goes through a ReLU so the ratio is non-negative. Adam
with ``betas=(0.5, 0.999)`` and weight decay 1e-4, learning rate 1e-4
divided by 10 at epochs 150 and 250 of 350. For a continuous label the
authors feed the embedding of their CcGAN's label network; here a label in
``[0, 1]`` goes through a small learned ``Linear(1, 128) + ReLU``. In
every training step the authors generate the fakes at the real batch's
labels; here each real sample is paired with fakes generated beforehand at
its label (a class's fakes, or those generated for that real sample).
"""
from typing import Callable, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ..utils.progress import ProgressLog

ArrayLike = Union[np.ndarray, Tensor, Sequence[float]]

DEFAULT_HIDDEN_DIMS = (2048, 1024, 512, 256, 128)  # the official "MLP5"
DEFAULT_CONTINUOUS_EMBED_DIM = 128


class DensityRatioMLP(nn.Module):
    """Conditional density-ratio model on CNN features (official cDR_MLP).

    Args:
        feat_dim: Dimension of the input features.
        num_classes: Number of classes for a class label; None for a
            continuous label in ``[0, 1]``.
        hidden_dims: Width of each hidden layer (multiples of
            ``num_groups``).
        dropout: Dropout probability after every hidden layer.
        embed_dim: Size of the label embedding. Defaults to
            ``num_classes`` for classes (official) and 128 for a continuous
            label.
        num_groups: GroupNorm groups of every hidden layer.
    """

    def __init__(self,
                 feat_dim: int,
                 num_classes: Optional[int] = None,
                 hidden_dims: Sequence[int] = DEFAULT_HIDDEN_DIMS,
                 dropout: float = 0.5,
                 embed_dim: Optional[int] = None,
                 num_groups: int = 8) -> None:
        super().__init__()
        _check_mlp_args(feat_dim, num_classes, hidden_dims, num_groups)
        self.feat_dim = int(feat_dim)
        self.num_classes = num_classes
        self.label_embed = _make_label_embedding(num_classes, embed_dim)
        in_dim = self.feat_dim + self._embed_dim(num_classes, embed_dim)
        layers = []
        for width in hidden_dims:
            layers += [
                nn.Linear(in_dim, width),
                nn.GroupNorm(num_groups, width),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout),
            ]
            in_dim = width
        layers += [nn.Linear(in_dim, 1), nn.ReLU()]
        self.main = nn.Sequential(*layers)

    @staticmethod
    def _embed_dim(num_classes: Optional[int],
                   embed_dim: Optional[int]) -> int:
        if embed_dim is not None:
            return int(embed_dim)
        if num_classes is not None:
            return int(num_classes)
        return DEFAULT_CONTINUOUS_EMBED_DIM

    def embed(self, labels: Tensor) -> Tensor:
        """Embed class indices ``(N,)`` or continuous labels ``(N,)``."""
        if self.num_classes is not None:
            return self.label_embed(labels.long().view(-1))
        return self.label_embed(labels.float().view(-1, 1))

    def forward(self, feats: Tensor, labels: Tensor) -> Tensor:
        """Return the density ratios ``(N,)`` (non-negative).

        Args:
            feats: ``(N, feat_dim)`` features (flattened if more dims).
            labels: ``(N,)`` class indices or continuous labels.
        """
        feats = feats.flatten(1)
        if feats.shape[1] != self.feat_dim:
            raise ValueError(f'feats must have {self.feat_dim} features, '
                             f'got shape {tuple(feats.shape)}')
        x = torch.cat([self.embed(labels).to(feats.dtype), feats], dim=1)
        return self.main(x).view(-1)


def _check_mlp_args(feat_dim: int, num_classes: Optional[int],
                    hidden_dims: Sequence[int], num_groups: int) -> None:
    if feat_dim <= 0:
        raise ValueError(f'feat_dim must be positive, got {feat_dim}')
    if num_classes is not None and num_classes <= 0:
        raise ValueError(
            f'num_classes must be positive or None, got {num_classes}')
    if not hidden_dims:
        raise ValueError('hidden_dims must not be empty')
    bad = [w for w in hidden_dims if w <= 0 or w % num_groups]
    if bad:
        raise ValueError(f'hidden_dims must be positive multiples of '
                         f'num_groups={num_groups}, got {list(hidden_dims)}')


def _make_label_embedding(num_classes: Optional[int],
                          embed_dim: Optional[int]) -> nn.Module:
    dim = DensityRatioMLP._embed_dim(num_classes, embed_dim)
    if num_classes is not None:
        return nn.Embedding(num_classes, dim)
    return nn.Sequential(nn.Linear(1, dim), nn.ReLU())


# --------------------------------------------------------------------------
# loss
# --------------------------------------------------------------------------
def penalized_softplus_loss(ratio_real: Tensor,
                            ratio_fake: Tensor,
                            penalty: float = 0.01) -> Tensor:
    """Penalised Softplus density-ratio loss of cDR-RS.

    With ``r`` the estimated ratio, ``sigma`` the sigmoid and ``eta`` the
    Softplus::

        L = E_fake[sigma(r) r - eta(r)] - E_real[sigma(r)]
            + penalty * (E_fake[r] - 1) ** 2

    The penalty keeps the ratio of fake samples averaging 1 (the ratio
    integrates to 1 under the fake density), which stops the model from
    assigning 0 to every fake sample.

    Args:
        ratio_real: Ratios of real samples, any shape.
        ratio_fake: Ratios of fake samples, any shape.
        penalty: Weight ``lambda`` of the penalty.

    Returns:
        The scalar loss.
    """
    sp_div = (torch.mean(torch.sigmoid(ratio_fake) * ratio_fake) -
              torch.mean(F.softplus(ratio_fake)) -
              torch.mean(torch.sigmoid(ratio_real)))
    return sp_div + penalty * (torch.mean(ratio_fake) - 1)**2


# --------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------
def fit_density_ratio(
        real_feats: Tensor,
        real_labels: Tensor,
        fake_feats: Tensor,
        fake_labels: Tensor,
        num_classes: Optional[int],
        epochs: int = 350,
        batch_size: int = 256,
        lr: float = 1e-4,
        penalty: float = 0.01,
        hidden_dims: Sequence[int] = DEFAULT_HIDDEN_DIMS,
        dropout: float = 0.5,
        lr_decay_epochs: Sequence[int] = (150, 250),
        lr_decay_factor: float = 0.1,
        weight_decay: float = 1e-4,
        betas: Tuple[float, float] = (0.5, 0.999),
        rng: Optional[torch.Generator] = None,
        log_fn: Optional[Callable[[str], None]] = None) -> DensityRatioMLP:
    """Train a :class:`DensityRatioMLP` on pre-computed features.

    Each epoch walks the real features once in shuffled batches. As in the
    official code, where fakes are generated with the real batch's labels,
    each real sample is paired with a fake sample of its own label: for
    classes, a fake sample of the same class; for a continuous label, one
    of the fakes generated for that very real sample. For a continuous
    label, fake sample ``j`` must have been generated at the label of real
    sample ``j % N_real`` (so ``N_fake >= N_real``), e.g. ``k`` fakes per
    real sample as ``fake_labels = real_labels.repeat(k)``: a fake sample
    of another label would make the model estimate ``p_real(x | y) /
    p_fake(x)`` instead of the conditional ratio. Adam; the learning rate
    is multiplied by ``lr_decay_factor`` at each of ``lr_decay_epochs``.

    Training is deterministic given ``rng`` (one seed is drawn from it;
    the global torch RNG is left untouched). The model is built on the
    device of ``real_feats``.

    Args:
        real_feats: ``(N_real, D)`` features of real images.
        real_labels: ``(N_real,)`` their labels.
        fake_feats: ``(N_fake, D)`` features of generated images.
        fake_labels: ``(N_fake,)`` the labels they were generated with;
            for a continuous label ``real_labels[j % N_real]`` for fake
            ``j``.
        num_classes: Number of classes; None for a continuous label.
        epochs: Passes over the real features.
        batch_size: Real (and fake) samples per step.
        lr: Initial learning rate.
        penalty: Weight of the penalty of the loss.
        hidden_dims: Hidden widths of the MLP.
        dropout: Dropout probability of the MLP.
        lr_decay_epochs: Epochs at which the learning rate decays.
        lr_decay_factor: Decay factor.
        weight_decay: Adam weight decay.
        betas: Adam betas.
        rng: Source of randomness; None draws from the global torch RNG.
        log_fn: Called with a progress line about ten times in all.

    Returns:
        The trained model, in eval mode.
    """
    _check_fit_inputs(real_feats, real_labels, fake_feats, fake_labels,
                      num_classes, epochs, batch_size)
    device = real_feats.device
    real_feats = real_feats.flatten(1).float()
    fake_feats = fake_feats.flatten(1).to(device).float()
    real_labels = real_labels.to(device)
    fake_labels = fake_labels.to(device)
    seed = _draw_seed(rng)
    with torch.random.fork_rng(devices=_cuda_devices(device)):
        torch.manual_seed(seed)  # weight init and dropout
        model = DensityRatioMLP(real_feats.shape[1], num_classes, hidden_dims,
                                dropout).to(device)
        sampler = _FakeSampler(real_labels, fake_labels, num_classes, seed)
        optimizer = torch.optim.Adam(model.parameters(),
                                     lr=lr,
                                     betas=betas,
                                     weight_decay=weight_decay)
        order_gen = torch.Generator().manual_seed(seed + 1)
        progress = ProgressLog('cDRE epoch', epochs, log_fn or
                               (lambda line: None), unit='epoch',
                               num_lines=10)
        for epoch in range(epochs):
            _set_lr(optimizer,
                    _decayed_lr(lr, epoch, lr_decay_epochs, lr_decay_factor))
            loss = _train_epoch(model, optimizer, real_feats, real_labels,
                                fake_feats, sampler, batch_size, penalty,
                                order_gen)
            progress.update(
                epoch + 1, f'loss {loss:.5f}, '
                f'lr {optimizer.param_groups[0]["lr"]:.2e}')
    return model.eval()


def _check_fit_inputs(real_feats: Tensor, real_labels: Tensor,
                      fake_feats: Tensor, fake_labels: Tensor,
                      num_classes: Optional[int], epochs: int,
                      batch_size: int) -> None:
    if len(real_feats) == 0 or len(fake_feats) == 0:
        raise ValueError('real_feats and fake_feats must not be empty')
    if len(real_labels) != len(real_feats):
        raise ValueError(f'real_labels has {len(real_labels)} entries for '
                         f'{len(real_feats)} real_feats')
    if len(fake_labels) != len(fake_feats):
        raise ValueError(f'fake_labels has {len(fake_labels)} entries for '
                         f'{len(fake_feats)} fake_feats')
    if real_feats[0].numel() != fake_feats[0].numel():
        raise ValueError(
            f'real and fake features differ in size: '
            f'{tuple(real_feats.shape)} vs {tuple(fake_feats.shape)}')
    if epochs < 0 or batch_size <= 0:
        raise ValueError(f'need epochs >= 0 and batch_size > 0, got '
                         f'{epochs} and {batch_size}')
    if num_classes is not None:
        missing = sorted(
            set(real_labels.long().tolist()) -
            set(fake_labels.long().tolist()))
        if missing:
            raise ValueError(f'no fake samples for classes {missing[:10]} '
                             'present in the real data')
        return
    num_real = len(real_labels)
    paired = real_labels.cpu()[torch.arange(len(fake_labels)) % num_real]
    if len(fake_labels) < num_real or not torch.allclose(
            fake_labels.cpu().float(), paired.float()):
        raise ValueError(
            'for a continuous label, fake sample j must be generated at the '
            f'label of real sample j % {num_real} (at least one fake per '
            f'real sample); the {len(fake_labels)} fake labels are not')


def _cuda_devices(device: torch.device) -> list:
    """CUDA device indices whose RNG state ``fork_rng`` must restore."""
    if device.type != 'cuda':
        return []
    index = device.index
    return [torch.cuda.current_device() if index is None else index]


def _draw_seed(rng: Optional[torch.Generator]) -> int:
    """Draw one 62-bit seed from ``rng`` (or the global RNG)."""
    device = rng.device if rng is not None else 'cpu'
    return int(
        torch.randint(2**62, (1, ), generator=rng, device=device).item())


def _decayed_lr(lr: float, epoch: int, decay_epochs: Sequence[int],
                factor: float) -> float:
    return lr * factor**sum(epoch >= e for e in decay_epochs)


def _set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group['lr'] = lr


class _FakeSampler:
    """Draws, for each real sample of a batch, a fake sample of its label.

    For classes, a fake sample of the same class, uniformly. For a
    continuous label, fake ``j`` was generated for real sample ``j %
    N_real``: one of the fakes of each real sample, uniformly.
    """

    def __init__(self, real_labels: Tensor, fake_labels: Tensor,
                 num_classes: Optional[int], seed: int) -> None:
        self.gen = torch.Generator().manual_seed(seed + 2)
        if num_classes is not None:  # group the fakes by class
            self.real_keys = real_labels.long().cpu()
            keys, num_keys = fake_labels.long().cpu(), num_classes
        else:  # group them by the real sample they were generated for
            num_keys = len(real_labels)
            self.real_keys = torch.arange(num_keys)
            keys = torch.arange(len(fake_labels)) % num_keys
        self.order = torch.argsort(keys, stable=True)
        self.counts = torch.bincount(keys, minlength=num_keys)
        self.starts = torch.cumsum(self.counts, 0) - self.counts

    def __call__(self, real_index: Tensor) -> Tensor:
        keys = self.real_keys[real_index.cpu()]
        counts = self.counts[keys]
        offsets = (torch.rand(len(keys), generator=self.gen) * counts).long()
        offsets = torch.minimum(offsets, counts - 1)
        return self.order[self.starts[keys] + offsets]


def _train_epoch(model: DensityRatioMLP, optimizer: torch.optim.Optimizer,
                 real_feats: Tensor, real_labels: Tensor, fake_feats: Tensor,
                 sampler: _FakeSampler, batch_size: int, penalty: float,
                 order_gen: torch.Generator) -> float:
    """Run one epoch; return the mean loss."""
    model.train()
    device = real_feats.device
    order = torch.randperm(len(real_feats), generator=order_gen)
    total, steps = 0.0, 0
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        fake_idx = sampler(batch).to(device)
        idx = batch.to(device)
        labels = real_labels[idx]
        ratio_real = model(real_feats[idx], labels)
        ratio_fake = model(fake_feats[fake_idx], labels)
        loss = penalized_softplus_loss(ratio_real, ratio_fake, penalty)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += float(loss.detach())
        steps += 1
    return total / max(steps, 1)


@torch.no_grad()
def predict_density_ratio(model: DensityRatioMLP,
                          feats: Tensor,
                          labels: Tensor,
                          batch_size: int = 1024) -> Tensor:
    """Density ratios of ``feats`` in eval mode, batch by batch.

    Args:
        model: A trained model.
        feats: ``(N, D)`` features.
        labels: ``(N,)`` labels.
        batch_size: Samples per forward pass.

    Returns:
        ``(N,)`` float32 ratios on the CPU.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(feats), batch_size):
        stop = start + batch_size
        out.append(
            model(feats[start:stop].to(device).float(),
                  labels[start:stop].to(device)).float().cpu())
    model.train(was_training)
    return torch.cat(out) if out else torch.zeros(0)


# --------------------------------------------------------------------------
# rejection sampling
# --------------------------------------------------------------------------
def _as_numpy(values: ArrayLike, name: str) -> np.ndarray:
    if isinstance(values, Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(array)):
        raise ValueError(f'{name} contains NaN or infinite values')
    return array


def estimate_max_ratio(burnin_ratios: ArrayLike,
                       quantile: float = 1.0) -> float:
    """Estimate the bound ``M`` of the ratios from a burn-in draw.

    The official code takes the maximum (``quantile=1``). While sampling it
    also raises ``M`` to the largest ratio of each new batch, i.e.
    ``M = max(M, ratios.max())`` before :func:`rejection_sample`.

    Args:
        burnin_ratios: Density ratios of a burn-in draw of fake samples.
        quantile: Use this quantile instead of the maximum (< 1 accepts
            more, at the price of treating the top ratios as equal).

    Returns:
        ``M > 0``.

    Raises:
        ValueError: if the draw is empty, not finite, or all ratios are 0
            (the density-ratio model collapsed: nothing would ever be
            accepted).
    """
    ratios = _as_numpy(burnin_ratios, 'burnin_ratios')
    if ratios.size == 0:
        raise ValueError('burnin_ratios is empty')
    if not 0.0 < quantile <= 1.0:
        raise ValueError(f'quantile must be in (0, 1], got {quantile}')
    bound = float(np.quantile(ratios, quantile))
    if not bound > 0.0:
        raise ValueError(
            f'the density ratios of all {ratios.size} burn-in samples are '
            f'{bound:g} (<= 0): the density-ratio model collapsed and '
            'rejection sampling would accept nothing. Retrain it (e.g. with '
            'a larger penalty) or disable subsampling.')
    return bound


def estimate_max_ratios(burnin_ratios: Sequence[ArrayLike]) -> np.ndarray:
    """Estimate one bound ``M`` per condition from its own burn-in draw.

    As the official code does for each label value of a continuous label
    (and for each class): ``M`` of a condition is the largest ratio of its
    burn-in draw, so the samples of a condition whose ratios are all small
    are not rejected for the large ratios of another. A condition whose
    burn-in ratios are all 0 (the model rejects that condition, not every
    sample) takes the largest bound of all, so a later candidate of it
    with a positive ratio can still be kept, rarely.

    Args:
        burnin_ratios: The density ratios of each condition's burn-in draw.

    Returns:
        ``(C,)`` float64 bounds ``M > 0``.

    Raises:
        ValueError: if a draw is empty or not finite, or every ratio of
            every draw is 0 (see :func:`estimate_max_ratio`).
    """
    draws = [_as_numpy(r, 'burnin_ratios') for r in burnin_ratios]
    if not draws or any(d.size == 0 for d in draws):
        raise ValueError('every condition needs a non-empty burn-in draw')
    largest = estimate_max_ratio(np.concatenate(draws))
    return np.array([d.max() if d.max() > 0 else largest for d in draws])


def rejection_sample(ratios: ArrayLike, max_ratio: ArrayLike,
                     rng: np.random.Generator) -> np.ndarray:
    """Keep each sample with probability ``min(1, r / M)``.

    Args:
        ratios: ``(N,)`` density ratios of candidate samples.
        max_ratio: The bound ``M > 0``, one for all or one per sample.
        rng: numpy generator drawing the uniforms.

    Returns:
        ``(N,)`` bool mask of the accepted samples.
    """
    bound = np.asarray(max_ratio, dtype=np.float64)
    if not (np.all(np.isfinite(bound)) and np.all(bound > 0)):
        raise ValueError(f'max_ratio must be finite and > 0, got {max_ratio}')
    ratios = _as_numpy(ratios, 'ratios')
    accept_prob = np.clip(ratios / bound, 0.0, 1.0)
    # u < p with u in [0, 1): p = 0 never accepts, p = 1 always does.
    return rng.random(ratios.size) < accept_prob
