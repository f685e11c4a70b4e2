# The Fashion-MNIST class-conditional DCGAN of cGAN-KD, sized for 2 CPU
# cores (BigGAN's smallest costs ~2.5 s an iteration at 28 px, this
# ~0.08 s; measured). It learns from the teacher's 55,000 training
# images, 1-channel at 28 px as the bank stores them. The class steers
# every stage of G through class-conditional batch norm (SNGAN's and
# BigGAN's way); chosen by the teacher-feature recall of its samples
# against the real training images (tools/analysis/cgan_quality.py,
# docs/results.md), never the test split. Alone:
#   python tools/train.py configs/cgan/dcgan_1xb64_fashion_mnist.py
# or as the cGAN of configs/fashion_mnist/cgankd_*_fashion_mnist.py
# (CGANHook.cgan), trained in <work_dir>/cgan before the bank is built.
_base_ = ['../_base_/cgan_runtime.py']

model = dict(
    type='ClassConditionalGAN',
    num_classes=10,
    img_size=28,
    img_channels=1,
    noise_dim=64,
    generator=dict(
        type='DCGANGenerator', base_channels=32, conditional_norm=True),
    discriminator=dict(type='DCGANDiscriminator', base_channels=32),
    discriminator_steps=1,
    # a short run: an EMA over ~100 generator updates (momentum is the
    # new value's weight), not BigGAN's 10,000
    ema_config=dict(
        type='ExponentialMovingAverage',
        momentum=0.01,
        update_buffers=True,
        start_iter=100),
    diff_augment='translation',
    data_preprocessor=dict(type='ConditionalGANDataPreprocessor'))

train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        type='mmrazor.FashionMNISTSplit',
        data_root='data/fashion_mnist',
        split='train',
        val_size=5000,
        pipeline=[dict(type='mmpretrain.PackInputs')]),
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'))
# DCGAN's Adam settings
optim_wrapper = dict(
    generator=dict(
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))
# recall still rose at the end of the selection run (docs/results.md):
# as long as a working block allows (~22 minutes on a free core)
train_cfg = dict(by_epoch=False, max_iters=16000)
default_hooks = dict(checkpoint=dict(interval=2000))
