# The CIFAR-100 BigGAN of cGAN-KD (32x32) with DiffAugment, as the
# official code trains it (UBCDingXin/cGAN-KD, CIFAR-100/BigGAN): batch
# 512, 4 discriminator steps per generator step, Adam 2e-4 (0, 0.999),
# EMA of G from 1,000 generator steps. A Runner iteration is one
# discriminator update: 48,000 generator steps are 192,000 iterations.
#   bash tools/dist_train.sh configs/cgan/biggan_1xb512_cifar100.py 8
# or as the cGAN of configs/cgankd/*_cifar100.py (CGANHook.cgan).
_base_ = ['../_base_/cgan_runtime.py']

discriminator_steps = 4
model = dict(
    type='ClassConditionalGAN',
    num_classes=100,
    img_size=32,
    noise_dim=128,
    generator=dict(type='BigGANGenerator', base_channels=64),
    discriminator=dict(type='ProjectionDiscriminator', base_channels=64),
    discriminator_steps=discriminator_steps,
    ema_config=dict(
        type='ExponentialMovingAverage',
        momentum=0.0001,
        update_buffers=True,
        start_iter=1000),
    diff_augment='color,translation,cutout',
    # real images flipped at random (the official run's --augment, which
    # for CIFAR-100 is a horizontal flip only: CIFAR-100/BigGAN/utils.py)
    flip_reals=True,
    data_preprocessor=dict(type='ConditionalGANDataPreprocessor'))

train_dataloader = dict(
    batch_size=512,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type='LocalCIFAR100',
        data_root='data/cifar100',
        split='train',
        check_md5=True,
        pipeline=[dict(type='mmpretrain.PackInputs')]),
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'))
optim_wrapper = dict(
    generator=dict(
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.0, 0.999))),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.0, 0.999))))
train_cfg = dict(by_epoch=False, max_iters=48000 * discriminator_steps)
default_hooks = dict(
    checkpoint=dict(interval=1000 * discriminator_steps))
