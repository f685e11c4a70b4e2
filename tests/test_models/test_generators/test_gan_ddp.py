# Copyright (c) cgankd_plugin contributors.
"""A cGAN under ``MMSeparateDistributedDataParallel`` (one gloo rank)."""
import pytest
import torch
import torch.distributed as dist
from mmengine.model import (MMDistributedDataParallel,
                            MMSeparateDistributedDataParallel)

from cgankd_plugin.models.generators import ClassConditionalGAN


@pytest.fixture
def process_group(tmp_path):
    """A one-rank gloo process group, destroyed afterwards."""
    dist.init_process_group(
        'gloo', init_method=f'file://{tmp_path}/store', rank=0,
        world_size=1)
    yield
    dist.destroy_process_group()


def _gan() -> ClassConditionalGAN:
    torch.manual_seed(0)
    return ClassConditionalGAN(
        dict(type='DCGANGenerator', base_channels=4, embed_dim=8),
        dict(type='DCGANDiscriminator', base_channels=4, embed_dim=8),
        num_classes=3, noise_dim=8, img_size=16, img_channels=1,
        discriminator_steps=1,
        ema_config=dict(momentum=0.25, start_iter=0))


# mmengine's own deprecation, raised by its DDP wrapper
@pytest.mark.filterwarnings('ignore:`broadcast_buffers` is deprecated')
def test_wrapped_networks_keep_the_keys_and_train(
        process_group, make_class_batch, make_optim_wrapper, message_hub):
    plain = _gan()
    wrapped = MMSeparateDistributedDataParallel(_gan())
    gan = wrapped.module
    assert isinstance(gan.generator, MMDistributedDataParallel)
    assert isinstance(gan.discriminator, MMDistributedDataParallel)
    # the EMA has no trainable weights: MMEngine leaves it unwrapped
    assert not isinstance(gan.generator_ema, MMDistributedDataParallel)
    assert sorted(gan.state_dict()) == sorted(plain.state_dict())
    assert any(
        k.startswith('generator_ema.module.') for k in plain.state_dict())

    images = torch.randint(0, 256, (4, 1, 16, 16), dtype=torch.uint8)
    batch = make_class_batch(images, torch.arange(4) % 3)
    wrapper = make_optim_wrapper(gan)
    for step in range(2):
        message_hub.update_info('iter', step)
        losses = wrapped.train_step(batch, wrapper)
        assert set(losses) == {'loss_disc', 'loss_gen'}
    assert int(gan.generator_ema.steps) == 2
    ema = dict(gan.generator_ema.module.named_parameters())
    params = dict(gan.generator.module.named_parameters())
    assert ema.keys() == params.keys()
    assert any(not torch.equal(ema[k], params[k]) for k in params)
    images = gan.sample(torch.tensor([0, 2]),
                        rng=torch.Generator().manual_seed(0))
    assert images.shape == (2, 1, 16, 16)
    plain.load_state_dict(gan.state_dict())
    assert torch.equal(
        plain.sample(torch.tensor([0, 2]),
                     rng=torch.Generator().manual_seed(0)), images)
