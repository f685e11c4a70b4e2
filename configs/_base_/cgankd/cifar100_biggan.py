# The cGAN-KD parts for CIFAR-100, shared by configs/cgankd/*_cifar100.py.
# They read `cgankd_train_dataset` and `cgan_hook` from here. Defaults follow
# the paper and its official code (a comment names each source).

# Fake samples the student sees on top of the 50k real images. The paper
# trains on 100k fake (1,000 per class, drawn from banks of 5,000 accepted
# per class) + 50k real images.
num_fake = 100000

cgankd_train_pipeline = [
    dict(type='mmpretrain.RandomCrop', crop_size=32, padding=4),
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
        type='LocalCIFAR100',
        data_root='data/cifar100',
        split='train',
        check_md5=True,
        pipeline=cgankd_train_pipeline))

# the runner that lets CGANHook build the bank before the training
# dataloader is built (cgankd_plugin.engine.runner.CGANKDRunner)
runner_type = 'CGANKDRunner'
cgan_hook = dict(
    type='CGANHook',
    # BigGAN at 32x32 with DiffAugment, as the paper's CIFAR-100 cGAN
    # (channel width 64, 4 D steps per G step, lr 2e-4, betas (0, 0.999),
    # EMA of G from iteration 1000: BigGAN-PyTorch / DiffAugment CIFAR).
    gan=dict(
        type='ClassConditionalGAN',
        num_classes=100,
        img_size=32,
        noise_dim=128,
        generator=dict(type='BigGANGenerator', base_channels=64),
        discriminator=dict(type='ProjectionDiscriminator', base_channels=64),
        discriminator_steps=4,
        ema_config=dict(momentum=0.9999, start_iter=1000),
        diff_augment='color,translation,cutout'),
    # the official CIFAR-100 run (CIFAR-100/BigGAN/scripts/
    # launch_cifar100_ema.sh): batch 512 per D step, 2,000 epochs; its
    # loader hands 512 x 4 images per G step and drops the last partial
    # batch, so 24 G steps an epoch
    gan_iters=48000,
    gan_batch_size=512,
    gan_optimizers=dict(
        generator=dict(type='Adam', lr=2e-4, betas=(0.0, 0.999)),
        discriminator=dict(type='Adam', lr=2e-4, betas=(0.0, 0.999))),
    gan_checkpoint_interval=1000,
    # or the path of trained cGAN weights, to skip its training
    generator_ckpt=None,
    # trained before the student's runner is built, on every rank, by a
    # Runner of its own (DDP, checkpoints, resume and scalars in
    # <work_dir>/cgan/runner); 'hook': by CGANHook alone, on rank 0
    gan_trainer='runner',
    # cDR-RS on the teacher's penultimate features (MLP-5, penalty 0.01,
    # Adam lr 1e-4 as cDR-RS); None switches subsampling off
    subsample=dict(epochs=200, batch_size=256, lr=1e-4, penalty=0.01),
    # per class, drop samples whose teacher cross-entropy is above the 0.9
    # quantile of a burn-in draw (paper: q = 0.9); add
    # filter_model=dict(model=..., checkpoint=...) to filter with a
    # stronger net than the teacher (the paper uses DenseNet-121)
    filter=dict(quantile=0.9, burn_in=500),
    # replace the generating class by the teacher's argmax
    relabel='hard',
    bank_batch_size=500,
    seed=0)
