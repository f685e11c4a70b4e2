# The cGAN-KD parts of the Fashion-MNIST demo, shared by
# configs/fashion_mnist/*cgankd*_fashion_mnist.py. They read
# `cgankd_train_dataset` and `cgan_hook` from here.
# Sized for 2 CPU cores: the cGAN is a small conditional DCGAN at the
# images' own 28x28 (BigGAN's smallest costs ~2.5 s an iteration there,
# this ~0.15 s; measured), trained on the students' 2,000 real images only.

# Fake samples on top of the 2,000 real ones (chosen on the validation
# split, see docs/results.md).
num_fake = 2000

cgankd_train_pipeline = [
    dict(type='mmrazor.GrayToRGB'),
    dict(type='mmpretrain.Resize', scale=(32, 32)),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    # fake samples take the teacher's labels stored in the bank
    dict(type='mmrazor.TeacherRelabel'),
    dict(type='mmpretrain.PackInputs'),
]

cgankd_train_dataset = dict(
    type='SyntheticMixDataset',
    num_fake=num_fake,
    # None: <work_dir>/synthetic_bank, set by CGANHook
    bank_dir=None,
    dataset=dict(
        type='mmrazor.FashionMNISTSplit',
        data_root='data/fashion_mnist',
        split='train',
        val_size=5000,
        # the students' low-data subset: the cGAN sees only these too
        indices=2000,
        pipeline=cgankd_train_pipeline))

cgan_hook = dict(
    type='CGANHook',
    gan=dict(
        type='ClassConditionalGAN',
        num_classes=10,
        img_size=28,
        img_channels=1,
        noise_dim=64,
        generator=dict(type='DCGANGenerator', base_channels=32),
        discriminator=dict(type='DCGANDiscriminator', base_channels=32),
        discriminator_steps=1,
        # a short run: an EMA over ~100 iterations, not BigGAN's 10,000
        ema_config=dict(momentum=0.99, start_iter=100),
        # DiffAugment for a 2,000-image training set (Zhao et al., 2020)
        diff_augment='translation,cutout'),
    gan_iters=1500,
    gan_batch_size=64,
    # DCGAN's Adam settings
    gan_optimizers=dict(
        generator=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999)),
        discriminator=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    gan_checkpoint_interval=250,
    # or the path of trained cGAN weights, to skip its training
    generator_ckpt=None,
    # cDR-RS off: on ~4,000 candidates its density-ratio net would cost
    # more than it saves; the teacher filter stays
    subsample=None,
    # per class, drop samples whose teacher cross-entropy is above the 0.9
    # quantile of a burn-in draw (paper: q = 0.9)
    filter=dict(quantile=0.9, burn_in=100),
    relabel='hard',
    bank_batch_size=250,
    seed=0,
    quality_samples=1000)
