# The cGAN-KD parts of the demo's regression task (rotated Fashion-MNIST,
# the target is the angle), shared by
# configs/fashion_mnist/*cgankd*_rotated_fashion_mnist.py. As the
# classification demo's (fashion_mnist_dcgan.py), sized for 2 CPU cores:
# CcGAN's vicinal training on a small conditional DCGAN at 28x28, trained on
# the students' 2,000 real images only.

# Fake samples on top of the 2,000 real ones.
num_fake = 2000

cgankd_train_pipeline = [
    dict(type='mmrazor.GrayToRGB'),
    dict(type='mmpretrain.Resize', scale=(32, 32)),
    # fake samples take the teacher's angle stored in the bank
    dict(type='mmrazor.TeacherRelabel'),
    dict(type='mmrazor.PackRegressionInputs'),
]

cgankd_train_dataset = dict(
    type='SyntheticMixDataset',
    num_fake=num_fake,
    # None: <work_dir>/synthetic_bank, set by CGANHook
    bank_dir=None,
    # a regression bank
    num_classes=0,
    dataset=dict(
        type='mmrazor.RotatedFashionMNIST',
        data_root='data/fashion_mnist',
        split='train',
        val_size=5000,
        indices=2000,
        pipeline=cgankd_train_pipeline))

cgan_hook = dict(
    type='CGANHook',
    # CcGAN (Ding et al., 2021) with the soft vicinity and its rule-of-thumb
    # sigma / kappa (as the UTKFace config), on the DCGAN pair
    gan=dict(
        type='ContinuousConditionalGAN',
        img_size=28,
        img_channels=1,
        noise_dim=64,
        generator=dict(type='DCGANGenerator', base_channels=32),
        discriminator=dict(type='DCGANDiscriminator', base_channels=32),
        discriminator_steps=1,
        vicinity='soft',
        kappa=-2,
        sigma=None,
        ema_config=dict(momentum=0.99, start_iter=100),
        diff_augment='translation,cutout'),
    gan_iters=1500,
    gan_batch_size=64,
    gan_optimizers=dict(
        generator=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999)),
        discriminator=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    gan_checkpoint_interval=250,
    generator_ckpt=None,
    subsample=None,
    # drop samples whose |teacher - angle| is above the 0.7 quantile of a
    # burn-in draw pooled over all angles (the official UTKFace setting)
    filter=dict(quantile=0.7, burn_in=20),
    # one grid point per degree, -45 ... 45
    num_label_values=91,
    bank_batch_size=250,
    seed=0,
    quality_samples=1000)
