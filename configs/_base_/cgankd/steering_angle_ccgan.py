# The cGAN-KD parts for Steering Angle, shared by
# configs/cgankd/*_steering_angle.py. They read `cgankd_train_dataset` and
# `cgan_hook` from here. Defaults follow the official code
# (UBCDingXin/cGAN-KD, SteeringAngle/scripts/run_gene_data.sh,
# run_cnn_fake.sh and opts.py); a comment names each source.

# Fake samples the student sees on top of the real training set
# (run_cnn_fake.sh: NFAKE=50000), 25 at each of the 2,000 grid angles.
num_fake = 50000

cgankd_train_pipeline = [
    # no flip: it would turn the angle's sign (see steering_angle_bs128.py)
    # fake samples take the teacher's value stored in the bank
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
        type='SteeringAngle',
        data_root='data/steering_angle',
        ann_file='SteeringAngle_64x64_prop_0.8.h5',
        split='train',
        pipeline=cgankd_train_pipeline))

cgan_hook = dict(
    type='CGANHook',
    # CcGAN at 64x64 (run_gene_data.sh / opts.py): SVDL ('soft') with the
    # rule-of-thumb sigma (--gan_kernel_sigma -1: 1.06 std(y) n^(-1/5)) and
    # kappa = 5 x the largest gap between sorted distinct labels
    # (--gan_kappa -5; nu = 1 / kappa^2), hinge loss, noise 256, G/D width
    # 64, label embedding 128, 2 D steps per G step, DiffAugment. The official
    # nets are SAGAN's; ours are the SNGAN-style CcGAN networks (no
    # self-attention), with the label MLP trained jointly.
    gan=dict(
        type='ContinuousConditionalGAN',
        img_size=64,
        noise_dim=256,
        generator=dict(
            type='CcGANGenerator', base_channels=64, label_embed_dim=128),
        discriminator=dict(
            type='CcGANDiscriminator', base_channels=64, label_embed_dim=128),
        discriminator_steps=2,
        vicinity='soft',
        kappa=-5,
        sigma=None,
        diff_augment='color,translation,cutout'),
    # 20k iterations of batch 512, Adam lr 1e-4 betas (0.5, 0.999) for G
    # and D (--gan_niters 20000 --gan_batch_size_disc/gene 512; opts.py
    # lr_g = lr_d = 1e-4; train_ccgan.py betas)
    gan_iters=20000,
    gan_batch_size=512,
    gan_optimizers=dict(
        generator=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999)),
        discriminator=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))),
    gan_checkpoint_interval=1000,
    # or the path of trained CcGAN weights, to skip its training
    generator_ckpt=None,
    # cDR-RS (--subsampling; MLP-5, 200 epochs, batch 256, Adam lr 1e-4,
    # penalty 0.01) on the teacher's penultimate features (the official
    # scripts use a sparse autoencoder's); None switches it off
    subsample=dict(epochs=200, batch_size=256, lr=1e-4, penalty=0.01),
    # drop samples whose |teacher - label| is above the 0.7 quantile of a
    # burn-in draw pooled over all angles (--samp_filter_mae_percentile_
    # threshold 0.7). Burn-in 10 per grid angle: 20,000 draws pooled
    # (the official code draws 500 per label for cDR-RS's M)
    filter=dict(quantile=0.7, burn_in=10),
    # 2,000 angles evenly spread over [-88.13, 97.92] degrees
    # (--samp_num_fake_labels 2000); every kept sample is relabelled with
    # the teacher's prediction (--adjust)
    num_label_values=2000,
    # candidates per round: a round serves one grid angle, whose quota is 25
    # here, so rounds of 100 waste less than the official 500
    bank_batch_size=100,
    seed=0)
