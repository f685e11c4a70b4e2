# Copyright (c) cgankd_plugin contributors.
"""A cGAN's ``train_step`` stays on the device it is given, reading
nothing back to the host.

The GANs run on the ``meta`` device: its tensors hold no values, so any
read of one on the host (``.item()``, ``int()``, ``bool()``, ``.cpu()``,
``.tolist()``) raises, and a :class:`TransferRecorder` lists every copy
between the host and the device outside the data preprocessor (the only
place a batch may cross). On a GPU either would be a synchronisation of
the host with the device, or a host-side draw copied over.
"""
from typing import List

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from cgankd_plugin.models.generators import diff_augment

DEVICE = torch.device('meta')
POLICY = 'color,translation,cutout'


class TransferRecorder(TorchDispatchMode):
    """Record the ops whose tensors lie on more than one device."""

    def __init__(self) -> None:
        super().__init__()
        self.transfers: List[str] = []
        self.paused = False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if not self.paused:
            flat, _ = tree_flatten((args, kwargs, out))
            devices = {
                t.device.type
                for t in flat if isinstance(t, torch.Tensor)
            }
            if len(devices) > 1:
                self.transfers.append(f'{func}: {sorted(devices)}')
        return out

    def skip(self, module: torch.nn.Module) -> None:
        """Record nothing while ``module`` runs."""
        module.register_forward_pre_hook(
            lambda *_: setattr(self, 'paused', True))
        module.register_forward_hook(
            lambda *_: setattr(self, 'paused', False))


def _gan(kind, build_class_gan, build_ccgan):
    ema = dict(momentum=0.1, start_iter=2)
    if kind == 'class':  # BigGAN-style, DiffAugment
        return build_class_gan(
            discriminator_steps=2, diff_augment=POLICY, ema_config=ema)
    return build_ccgan(
        vicinity='soft', discriminator_steps=2, diff_augment=POLICY,
        ema_config=ema)


@pytest.mark.parametrize('kind', ['class', 'continuous'])
def test_a_train_step_stays_on_its_device_and_reads_nothing_back(
        kind, build_class_gan, build_ccgan, class_batches,
        make_vicinal_batches, make_optim_wrapper, message_hub):
    gan = _gan(kind, build_class_gan, build_ccgan).to(DEVICE)
    batches = (class_batches if kind == 'class' else
               make_vicinal_batches(vicinity='soft'))
    wrapper = make_optim_wrapper(gan)
    recorder = TransferRecorder()
    recorder.skip(gan.data_preprocessor)
    # discriminator-only steps, generator turns that copy G into the
    # EMA (turns 1, 2) and one that averages (turn 3)
    with recorder:
        for step in range(6):
            message_hub.update_info('iter', step)
            losses = gan.train_step(batches(step), wrapper)
    assert recorder.transfers == []
    assert set(losses) == {'loss_disc', 'loss_gen'}
    assert all(v.device == DEVICE for v in losses.values())
    assert all(v.device == DEVICE for v in gan.state_dict().values())
    for optimizer in (wrapper['generator'].optimizer,
                      wrapper['discriminator'].optimizer):
        moments = [
            v for state in optimizer.state.values()
            for k, v in state.items() if k != 'step'  # torch's host count
        ]
        assert moments and all(v.device == DEVICE for v in moments)


def test_diff_augment_draws_on_the_images_device():
    images = torch.empty(4, 3, 16, 16, device=DEVICE)
    recorder = TransferRecorder()
    with recorder:
        out = diff_augment(images, POLICY, torch.Generator().manual_seed(0))
    assert recorder.transfers == []
    assert out.device == DEVICE and out.shape == images.shape
