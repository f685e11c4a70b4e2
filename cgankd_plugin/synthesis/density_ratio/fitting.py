# Copyright (c) cgankd_plugin contributors.
"""Fitting the density-ratio network, and predicting with it.

The fit is the training loop of cDR-RS: each step takes a shuffled batch
of real features (each sample, with flips, in its mirrored or its plain
version at random) and fresh fake features generated at the batch's
labels, and takes one Adam step on the penalised Softplus loss. Every
tensor of the fit stays on the device of the real features.
"""
from typing import Callable, Iterator, Optional, Sequence, Tuple

import torch
from torch import Tensor

from ...utils.progress import ProgressLog
from .model import (DEFAULT_HIDDEN_DIMS, DensityRatioMLP,
                    penalized_softplus_loss)

#: Features of fresh fakes at the given labels (host tensor in, features on
#: the fit's device out), e.g. a generator followed by the teacher.
FakeSource = Callable[[Tensor], Tensor]

DEFAULT_LR_DECAY_EPOCHS = (80, 150)  # the official --dre_lr_decay_epochs


class _RealBatches:
    """The real side of the fit: features, their flips, labels, batches.

    Args:
        feats (torch.Tensor): ``(N, D)`` features of the real images.
        flipped (torch.Tensor, optional): ``(N, D)`` features of their
            horizontal flips; None: never flipped.
        labels (torch.Tensor): ``(N,)`` their labels.
    """

    def __init__(self, feats: Tensor, flipped: Optional[Tensor],
                 labels: Tensor) -> None:
        self.device = feats.device
        self.num = len(feats)
        views = [feats] if flipped is None else [feats, flipped]
        self.feats = torch.cat([v.flatten(1).float() for v in views])
        self.flip = flipped is not None
        self.host_labels = labels.cpu()
        self.labels = labels.to(self.device)

    def epoch(self, batch_size: int, gen: torch.Generator
              ) -> Iterator[Tuple[Tensor, Tensor, Tensor]]:
        """One shuffled pass, a batch at a time.

        The order and the flips are drawn on the host from ``gen`` and
        copied to the device once per epoch.

        Yields:
            tuple: the batch's features and labels (on the device) and
            its labels on the host.
        """
        order = torch.randperm(self.num, generator=gen)
        rows = order
        if self.flip:  # the second half of ``feats`` holds the flips
            rows = order + self.num * (torch.rand(self.num, generator=gen)
                                       < 0.5)
        order_dev, rows_dev = order.to(self.device), rows.to(self.device)
        for start in range(0, self.num, batch_size):
            stop = start + batch_size
            yield (self.feats[rows_dev[start:stop]],
                   self.labels[order_dev[start:stop]],
                   self.host_labels[order[start:stop]])


def fit_density_ratio(
        real_feats: Tensor,
        real_labels: Tensor,
        fake_features: FakeSource,
        num_classes: Optional[int],
        epochs: int = 200,
        batch_size: int = 256,
        lr: float = 1e-4,
        penalty: float = 0.01,
        hidden_dims: Sequence[int] = DEFAULT_HIDDEN_DIMS,
        dropout: float = 0.5,
        lr_decay_epochs: Sequence[int] = DEFAULT_LR_DECAY_EPOCHS,
        lr_decay_factor: float = 0.1,
        weight_decay: float = 1e-4,
        betas: Tuple[float, float] = (0.5, 0.999),
        flipped_feats: Optional[Tensor] = None,
        rng: Optional[torch.Generator] = None,
        log_fn: Optional[Callable[[str], None]] = None) -> DensityRatioMLP:
    """Train a :class:`DensityRatioMLP`, fresh fakes at every step.

    Each epoch walks the real samples once in shuffled batches of
    ``batch_size``. With ``flipped_feats``, each sample of a batch is
    taken mirrored with probability 1/2 (a random horizontal flip of the
    real image). ``fake_features`` is called once per step with the
    batch's labels and returns the features of that many new fakes, one
    generated at each label: the model compares every real sample with
    fakes of its own label, so it estimates the conditional ratio. Adam;
    the learning rate is multiplied by ``lr_decay_factor`` at each of
    ``lr_decay_epochs``. The defaults are the official ones.

    The model is built on the device of ``real_feats``, where every
    tensor of the fit stays: the losses are read on the host only for a
    progress line. Deterministic given ``rng`` and the fake source (one
    seed is drawn from ``rng``; the global torch RNG is left untouched).

    Args:
        real_feats (torch.Tensor): ``(N, D)`` features of real images.
        real_labels (torch.Tensor): ``(N,)`` their labels (class indices,
            or a continuous label in ``[0, 1]``).
        fake_features (FakeSource): Labels ``(B,)`` on the host to the
            ``(B, D)`` features of ``B`` fresh fakes at those labels, on
            the device of ``real_feats``; called without gradients.
        num_classes (int, optional): Number of classes; None for a
            continuous label.
        epochs (int): Passes over the real samples.
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
        flipped_feats (torch.Tensor, optional): ``(N, D)`` features of the
            real images flipped horizontally; None: no flips.
        rng (torch.Generator, optional): Source of randomness; None draws
            from the global torch RNG.
        log_fn (Callable[[str], None], optional): Called with a progress
            line about ten times in all.

    Returns:
        DensityRatioMLP: The trained model, in eval mode.
    """
    if len(real_feats) == 0:
        raise ValueError('fit_density_ratio needs real features, got none')
    real = _RealBatches(real_feats, flipped_feats, real_labels)
    device = real.device
    # one 62-bit seed from ``rng``; the global RNG states are restored
    seed = int(torch.randint(2**62, (1, ), generator=rng,
                             device=rng.device if rng is not None else 'cpu'))
    with torch.random.fork_rng(
            devices=[device] if device.type == 'cuda' else []):
        torch.manual_seed(seed)  # weight init and dropout
        model = DensityRatioMLP(real.feats.shape[1], num_classes,
                                hidden_dims, dropout).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=betas,
                                     weight_decay=weight_decay)
        order_gen = torch.Generator().manual_seed(seed + 1)
        progress = ProgressLog('cDRE epoch', epochs, log_fn, unit='epoch',
                               num_lines=10) if log_fn else None
        for epoch in range(epochs):
            decays = sum(epoch >= e for e in lr_decay_epochs)
            for group in optimizer.param_groups:
                group['lr'] = lr * lr_decay_factor**decays
            loss = _train_epoch(model, optimizer,
                                real.epoch(batch_size, order_gen),
                                fake_features, penalty)
            if progress is not None:
                progress.update(
                    epoch + 1, f'loss {float(loss):.5f}, '
                    f'lr {optimizer.param_groups[0]["lr"]:.2e}')
    return model.eval()


def _train_epoch(model: DensityRatioMLP, optimizer: torch.optim.Optimizer,
                 batches: Iterator[Tuple[Tensor, Tensor, Tensor]],
                 fake_features: FakeSource, penalty: float) -> Tensor:
    """Run one epoch; return the mean loss (a tensor on the device)."""
    model.train()
    total, steps = 0, 0
    for feats, labels, host_labels in batches:
        with torch.no_grad():
            fake = fake_features(host_labels).flatten(1).float()
        loss = penalized_softplus_loss(
            model(feats, labels), model(fake, labels), penalty)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total = total + loss.detach()
        steps += 1
    return total / steps


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
        torch.Tensor: ``(N,)`` float32 ratios on the model's device.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = [
        model(feats[start:start + batch_size].to(device).float(),
              labels[start:start + batch_size].to(device)).float()
        for start in range(0, len(feats), batch_size)
    ]
    model.train(was_training)
    return torch.cat(out) if out else torch.zeros(0, device=device)
