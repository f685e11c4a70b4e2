# The cGAN-KD parts for ImageNet-100 at 128x128. The paper uses BigGAN-deep
# at 128x128; this is the plugin's BigGAN at 128x128 (width 64).
num_fake = 100000

cgankd_train_pipeline = [
    # real samples load from files; fake ones arrive as arrays from the bank
    dict(type='mmrazor.LoadImageUnlessGiven'),
    dict(type='mmpretrain.RandomResizedCrop', scale=128),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmrazor.TeacherRelabel'),
    dict(type='mmpretrain.PackInputs'),
]
cgankd_train_dataset = dict(
    type='SyntheticMixDataset',
    num_fake=num_fake,
    bank_dir=None,
    dataset=dict(
        type='ImageNet100',
        data_root='data/imagenet',
        split='train',
        pipeline=cgankd_train_pipeline))

# the runner that lets CGANHook build the bank before the training
# dataloader is built (cgankd_plugin.engine.runner.CGANKDRunner)
runner_type = 'CGANKDRunner'
cgan_hook = dict(
    type='CGANHook',
    gan=dict(
        type='ClassConditionalGAN',
        num_classes=100,
        img_size=128,
        generator=dict(type='BigGANGenerator', base_channels=64),
        discriminator=dict(type='ProjectionDiscriminator', base_channels=64),
        discriminator_steps=2,
        ema_config=dict(momentum=0.9999, start_iter=20000),
        diff_augment='color,translation,cutout'),
    gan_iters=100000,
    gan_batch_size=256,
    # CGANHook's defaults, named for configs/cgan/biggan_1xb256_imagenet100.py
    gan_optimizers=dict(
        generator=dict(type='Adam', lr=2e-4, betas=(0.0, 0.999)),
        discriminator=dict(type='Adam', lr=2e-4, betas=(0.0, 0.999))),
    gan_checkpoint_interval=2000,
    generator_ckpt=None,
    # trained by a Runner of its own on every rank (see cifar100_biggan.py)
    gan_trainer='runner',
    subsample=dict(epochs=200, batch_size=256, lr=1e-4, penalty=0.01),
    filter=dict(quantile=0.9, burn_in=500),
    relabel='hard',
    bank_batch_size=500,
    seed=0)
