# Copyright (c) cgankd_plugin contributors.
"""A cGAN's ``train_step`` under ``AmpOptimWrapper`` (bfloat16 autocast).

CPU autocast does bfloat16, so the wrapper ``--amp`` gives a cGAN
recipe (``CGAN_AMP``) runs here once MMEngine's check for an accelerator
is answered.
"""
import pytest
import torch
import torch.nn as nn
from mmengine.optim import AmpOptimWrapper, OptimWrapperDict
from mmengine.optim.optimizer import amp_optimizer_wrapper

from cgankd_plugin.engine.cgan_training import CGAN_AMP


@pytest.fixture
def amp_wrappers(monkeypatch):
    """``OptimWrapperDict`` of ``CGAN_AMP`` wrappers of Adam over G, D."""
    # MMEngine refuses AmpOptimWrapper without an accelerator
    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available',
                        lambda: True)
    settings = {k: v for k, v in CGAN_AMP.items() if k != 'type'}

    def build(gan) -> OptimWrapperDict:
        return OptimWrapperDict(**{
            name: AmpOptimWrapper(
                optimizer=torch.optim.Adam(
                    getattr(gan, name).parameters(), lr=2e-4,
                    betas=(0.0, 0.999)),
                **settings)
            for name in ('generator', 'discriminator')
        })

    return build


def _record_dtypes(network: nn.Module, dtypes: set) -> None:
    """Add the output dtype of each conv and linear layer to ``dtypes``."""
    for layer in network.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            layer.register_forward_hook(
                lambda _, __, out: dtypes.add(out.dtype))


# MMEngine's own deprecation (it builds torch.cuda.amp.GradScaler)
@pytest.mark.filterwarnings('ignore:`torch.cuda.amp.GradScaler')
@pytest.mark.parametrize('kind', ['class', 'continuous'])
def test_both_updates_autocast_and_keep_float32_losses(
        kind, build_class_gan, build_ccgan, class_batches,
        make_vicinal_batches, amp_wrappers, message_hub):
    if kind == 'class':
        gan = build_class_gan(discriminator_steps=2, diff_augment='color')
        batches = class_batches
    else:
        gan = build_ccgan(vicinity='soft', discriminator_steps=2,
                          diff_augment='color')
        batches = make_vicinal_batches(vicinity='soft')
    wrapper = amp_wrappers(gan)
    before = {k: v.clone() for k, v in gan.state_dict().items()}
    seen = dict(generator=set(), discriminator=set())
    for name, dtypes in seen.items():
        _record_dtypes(getattr(gan, name), dtypes)
    for step, updated in enumerate(('discriminator', 'generator')):
        for dtypes in seen.values():
            dtypes.clear()
        message_hub.update_info('iter', step)
        losses = gan.train_step(batches(step), wrapper)
        # the discriminator's update generates its fakes, the generator's
        # is scored by the discriminator: each runs both networks
        assert seen == dict(generator={torch.bfloat16},
                            discriminator={torch.bfloat16}), updated
        for loss in losses.values():
            assert loss.dtype == torch.float32 and torch.isfinite(loss)
    assert set(losses) == {'loss_disc', 'loss_gen'}
    after = gan.state_dict()
    assert all(v.dtype == before[k].dtype for k, v in after.items())
    for prefix in ('generator.', 'discriminator.'):
        assert any(not torch.equal(v, before[k])
                   for k, v in after.items() if k.startswith(prefix))
