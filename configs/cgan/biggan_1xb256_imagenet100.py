# The ImageNet-100 BigGAN of the plugin's cGAN-KD configs (128x128),
# trained by MMEngine's Runner (the first stage of the two-stage recipe):
#   bash tools/dist_train.sh configs/cgan/biggan_1xb256_imagenet100.py 8
# then give its weights to a cGAN-KD ImageNet-100 config:
#   --cfg-options custom_hooks.0.generator_ckpt=PATH/TO/iter_200000.pth
# The network, the EMA, DiffAugment, the optimisers, the batch (per rank)
# and the length are CGANHook's (configs/_base_/cgankd/imagenet100_biggan.py;
# the paper's BigGAN-deep is not ours). A Runner iteration is one
# discriminator update: 100,000 generator steps of 2 discriminator steps
# are 200,000 iterations.
_base_ = [
    '../_base_/cgankd/imagenet100_biggan.py',
    '../_base_/cgan_runtime.py',
]

discriminator_steps = _base_.cgan_hook.gan.discriminator_steps
model = dict(
    _base_.cgan_hook.gan,
    data_preprocessor=dict(type='ConditionalGANDataPreprocessor'))

# the student's training images, loaded and resized to the cGAN's square
# (the student's crop and flip are random), as CGANHook feeds them
train_dataloader = dict(
    batch_size=_base_.cgan_hook.gan_batch_size,
    num_workers=8,
    persistent_workers=True,
    dataset=dict(
        _base_.cgankd_train_dataset.dataset,
        pipeline=[
            dict(type='mmrazor.LoadImageUnlessGiven'),
            dict(type='mmpretrain.Resize', scale=(128, 128)),
            dict(type='mmpretrain.PackInputs'),
        ]),
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
