# The cGAN-KD parts for UTKFace, shared by configs/cgankd/*_utkface.py.
# They read `cgankd_train_dataset` and `cgan_hook` from here. Defaults follow
# the official code (UBCDingXin/cGAN-KD, UTKFace/scripts/run_gene_data.sh,
# run_cnn_fake.sh and opts.py); a comment names each source.

# Fake samples the student sees on top of the real training set: 1,000 per
# age for the 60 ages (run_cnn_fake.sh: NFAKE_PER_LABEL=1000).
num_fake = 60000

cgankd_train_pipeline = [
    # faces are flipped at random, real and fake (train_cnn.py hflip_images)
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
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
        type='UTKFace',
        data_root='data/utkface',
        ann_file='UTKFace_64x64_prop_0.8.h5',
        split='train',
        pipeline=cgankd_train_pipeline))

# the runner that lets CGANHook build the bank before the training
# dataloader is built (cgankd_plugin.engine.runner.CGANKDRunner)
runner_type = 'CGANKDRunner'
cgan_hook = dict(
    type='CGANHook',
    # the cGAN's training config, trained in <work_dir>/cgan unless
    # generator_ckpt is given; its overrides: cgan_cfg_options
    cgan='configs/cgan/ccgan_1xb512_utkface.py',
    cgan_cfg_options=dict(),
    # or the path of trained CcGAN weights, to skip its training
    generator_ckpt=None,
    # cDR-RS (--subsampling; MLP-5, 200 epochs, batch 256, Adam lr 1e-4,
    # lr / 10 at epochs 80 and 150, penalty 0.01) on the teacher's
    # penultimate features (the official scripts use a sparse
    # autoencoder's); every step compares real faces, each flipped at
    # random (train_cdre.py hflip_images), with fakes generated afresh at
    # their ages (--dre_kappa 0); an age's bound M is the largest ratio of
    # 100 fresh fakes (--samp_burnin_size 100), raised by every later
    # batch. None switches it off
    subsample=dict(
        epochs=200,
        batch_size=256,
        lr=1e-4,
        penalty=0.01,
        lr_decay_epochs=(80, 150),
        burn_in=100,
        flip=True),
    # drop samples whose |teacher - label| is above the 0.7 quantile of a
    # burn-in of cDR-RS survivors pooled over all ages (--samp_filter_mae_
    # percentile_threshold 0.7, taken on the subsampled set); 100 per age;
    # add filter_model=dict(model=..., checkpoint=...) to filter with
    # another net than the teacher
    filter=dict(quantile=0.7, burn_in=100),
    # a regression bank stores the teacher's predicted value for 'hard'
    # (--adjust), the generating value for 'none'
    relabel='hard',
    # the ages 1, 2, ..., 60 (the grid spans the dataset's label_range), as
    # the official bank is generated at the training ages; every kept
    # sample is relabelled with the teacher's prediction (--adjust)
    num_label_values=60,
    # candidates per round (--samp_batch_size 500)
    bank_batch_size=500,
    seed=0)
