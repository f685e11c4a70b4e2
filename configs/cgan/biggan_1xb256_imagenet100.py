# The ImageNet-100 BigGAN of cGAN-KD at 128x128 (width 64; the paper's
# BigGAN-deep is not ours). A Runner iteration is one discriminator
# update: 100,000 generator steps of 2 discriminator steps are 200,000
# iterations.
#   bash tools/dist_train.sh configs/cgan/biggan_1xb256_imagenet100.py 8
# or as the cGAN of configs/cgankd/*_imagenet100.py (CGANHook.cgan).
_base_ = ['../_base_/cgan_runtime.py']

discriminator_steps = 2
model = dict(
    type='ClassConditionalGAN',
    num_classes=100,
    img_size=128,
    generator=dict(type='BigGANGenerator', base_channels=64),
    discriminator=dict(type='ProjectionDiscriminator', base_channels=64),
    discriminator_steps=discriminator_steps,
    ema_config=dict(
        type='ExponentialMovingAverage',
        momentum=0.0001,
        update_buffers=True,
        start_iter=20000),
    diff_augment='color,translation,cutout',
    data_preprocessor=dict(type='ConditionalGANDataPreprocessor'))

# the student's training images, loaded and resized to the cGAN's square
train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    dataset=dict(
        type='ImageNet100',
        data_root='data/imagenet',
        split='train',
        pipeline=[
            dict(type='mmrazor.LoadImageUnlessGiven'),
            dict(type='mmpretrain.Resize', scale=(128, 128)),
            dict(type='mmpretrain.PackInputs'),
        ]),
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'))
optim_wrapper = dict(
    generator=dict(
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.0, 0.999))),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.0, 0.999))))
train_cfg = dict(by_epoch=False, max_iters=100000 * discriminator_steps)
default_hooks = dict(
    checkpoint=dict(interval=2000 * discriminator_steps))
