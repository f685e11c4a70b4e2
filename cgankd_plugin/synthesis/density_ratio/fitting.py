# Copyright (c) cgankd_plugin contributors.
"""Fitting the density-ratio network on features, and predicting with it."""
from typing import Callable, Optional, Sequence, Tuple

import torch
from torch import Tensor

from ...utils.progress import ProgressLog
from .model import (DEFAULT_HIDDEN_DIMS, DensityRatioMLP,
                    penalized_softplus_loss)


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
        real_feats (torch.Tensor): ``(N_real, D)`` features of real images.
        real_labels (torch.Tensor): ``(N_real,)`` their labels.
        fake_feats (torch.Tensor): ``(N_fake, D)`` features of generated
            images.
        fake_labels (torch.Tensor): ``(N_fake,)`` the labels they were
            generated with; for a continuous label ``real_labels[j % N_real]``
            for fake ``j``.
        num_classes (int, optional): Number of classes; None for a continuous
            label.
        epochs (int): Passes over the real features.
        batch_size (int): Real (and fake) samples per step.
        lr (float): Initial learning rate.
        penalty (float): Weight of the penalty of the loss.
        hidden_dims (Sequence[int]): Hidden widths of the MLP.
        dropout (float): Dropout probability of the MLP.
        lr_decay_epochs (Sequence[int]): Epochs at which the learning rate
            decays.
        lr_decay_factor (float): Decay factor.
        weight_decay (float): Adam weight decay.
        betas (Tuple[float, float]): Adam betas.
        rng (torch.Generator, optional): Source of randomness; None draws from
            the global torch RNG.
        log_fn (Callable[[str], None], optional): Called with a progress line
            about ten times in all.

    Returns:
        DensityRatioMLP: The trained model, in eval mode.
    """
    _check_fit_inputs(real_labels, fake_labels, num_classes)
    device = real_feats.device
    real_feats = real_feats.flatten(1).float()
    fake_feats = fake_feats.flatten(1).to(device).float()
    real_labels = real_labels.to(device)
    fake_labels = fake_labels.to(device)
    # one 62-bit seed from ``rng``; the global RNG states are restored
    seed = int(torch.randint(2**62, (1, ), generator=rng,
                             device=rng.device if rng is not None else 'cpu'))
    with torch.random.fork_rng(
            devices=[device] if device.type == 'cuda' else []):
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
            decays = sum(epoch >= e for e in lr_decay_epochs)
            for group in optimizer.param_groups:
                group['lr'] = lr * lr_decay_factor**decays
            loss = _train_epoch(model, optimizer, real_feats, real_labels,
                                fake_feats, sampler, batch_size, penalty,
                                order_gen)
            progress.update(
                epoch + 1, f'loss {loss:.5f}, '
                f'lr {optimizer.param_groups[0]["lr"]:.2e}')
    return model.eval()


def _check_fit_inputs(real_labels: Tensor, fake_labels: Tensor,
                      num_classes: Optional[int]) -> None:
    """Refuse fakes that are not paired with the real samples' labels."""
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
        model (DensityRatioMLP): A trained model.
        feats (torch.Tensor): ``(N, D)`` features.
        labels (torch.Tensor): ``(N,)`` labels.
        batch_size (int): Samples per forward pass.

    Returns:
        torch.Tensor: ``(N,)`` float32 ratios on the CPU.
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
