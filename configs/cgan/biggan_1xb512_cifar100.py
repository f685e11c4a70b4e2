# The CIFAR-100 BigGAN of cGAN-KD, trained by MMEngine's Runner (the first
# stage of the two-stage recipe, as mmrazor's _pretrain / _train configs):
#   python tools/train.py configs/cgan/biggan_1xb512_cifar100.py
# then give its weights to a cGAN-KD CIFAR-100 config:
#   --cfg-options custom_hooks.0.generator_ckpt=PATH/TO/iter_192000.pth
# The network, the EMA, DiffAugment, the optimisers, the batch and the
# length are CGANHook's (configs/_base_/cgankd/cifar100_biggan.py, the
# official run's settings). A Runner iteration is one discriminator update
# (mmagic's convention), so the official 48,000 generator steps of 4
# discriminator steps each are 192,000 iterations here.
_base_ = [
    '../_base_/cgankd/cifar100_biggan.py',
    '../_base_/cgan_runtime.py',
]

discriminator_steps = _base_.cgan_hook.gan.discriminator_steps
model = dict(
    _base_.cgan_hook.gan,
    data_preprocessor=dict(type='ConditionalGANDataPreprocessor'))

# the student's 50,000 training images, through the deterministic part of
# its pipeline (none: its crop and flip are random), as CGANHook feeds them
train_dataloader = dict(
    batch_size=_base_.cgan_hook.gan_batch_size,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        _base_.cgankd_train_dataset.dataset,
        pipeline=[dict(type='mmpretrain.PackInputs')]),
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'))
optim_wrapper = dict(
    generator=dict(optimizer=_base_.cgan_hook.gan_optimizers.generator),
    discriminator=dict(
        optimizer=_base_.cgan_hook.gan_optimizers.discriminator))
max_iters = _base_.cgan_hook.gan_iters * discriminator_steps
train_cfg = dict(by_epoch=False, max_iters=max_iters)

checkpoint_interval = (_base_.cgan_hook.gan_checkpoint_interval *
                       discriminator_steps)
default_hooks = dict(checkpoint=dict(interval=checkpoint_interval))
