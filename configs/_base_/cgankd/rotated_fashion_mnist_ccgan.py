# The cGAN-KD parts of the demo's regression task (rotated Fashion-MNIST,
# the target is the angle), shared by
# configs/fashion_mnist/*cgankd*_rotated_fashion_mnist.py. As the
# classification demo's (fashion_mnist_dcgan.py), sized for 2 CPU cores:
# CcGAN's vicinal training on a small conditional DCGAN at 28x28, trained on
# the teacher's 55,000 training images (as in the paper, the cGAN and the
# teacher share their data); the student trains on its first 2,000.

# Fake samples beside the 2,000 real ones (2:1, as fashion_mnist_dcgan.py).
num_fake = 4000

cgankd_train_pipeline = [
    dict(type='mmrazor.GrayToRGB'),
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

# what the CcGAN learns from: the teacher's 55,000 training images
gan_dataset = dict(
    type='mmrazor.RotatedFashionMNIST',
    data_root='data/fashion_mnist',
    split='train',
    val_size=5000)

# the runner that lets CGANHook build the bank before the training
# dataloader is built (cgankd_plugin.engine.runner.CGANKDRunner)
runner_type = 'CGANKDRunner'
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
        diff_augment='translation'),
    gan_dataset=gan_dataset,
    gan_iters=3000,
    gan_batch_size=64,
    gan_optimizers=dict(
        generator=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999)),
        discriminator=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    gan_checkpoint_interval=500,
    generator_ckpt=None,
    subsample=None,
    # drop samples whose |teacher - angle| is above the 0.7 quantile of a
    # burn-in draw pooled over all angles (the official UTKFace setting)
    filter=dict(quantile=0.7, burn_in=20),
    # one grid point per degree, -45 ... 45
    num_label_values=91,
    bank_batch_size=250,
    seed=0,
    quality_samples=2000)
