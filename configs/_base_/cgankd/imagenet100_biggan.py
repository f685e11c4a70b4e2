# The cGAN-KD parts for ImageNet-100 at 128x128. The paper uses BigGAN-deep
# at 128x128; this is the plugin's BigGAN at 128x128 (width 64).
num_fake = 100000

cgankd_train_pipeline = [
    # real samples load from files; fake ones arrive as arrays from the bank
    dict(type='mmrazor.LoadImageUnlessGiven'),
    dict(type='mmpretrain.RandomResizedCrop', scale=128),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    # fake samples take the labels stored in the bank (their generating
    # class with relabel='none')
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
    # the cGAN's training config, trained in <work_dir>/cgan unless
    # generator_ckpt is given; its overrides: cgan_cfg_options
    cgan='configs/cgan/biggan_1xb256_imagenet100.py',
    cgan_cfg_options=dict(),
    generator_ckpt=None,
    # cDR-RS as CIFAR-100's (cifar100_biggan.py); M from 1,000 fresh fakes
    # per class (ImageNet-100 make_fake_datasets/scripts/run.sh:
    # --samp_burnin_size 1000)
    subsample=dict(
        epochs=200,
        batch_size=256,
        lr=1e-4,
        penalty=0.01,
        lr_decay_epochs=(80, 150),
        burn_in=1000,
        flip=True),
    # the official bank of every ImageNet-100 run, cGAN-KD alone and stacked
    # (ImageNet-100/RepDistiller/scripts/*/run_*_fake.sh: ..._perc_0.90_
    # adjust_False_...): q 0.9, the generating class kept as the label
    filter=dict(quantile=0.9, burn_in=500),
    relabel='none',
    bank_batch_size=500,
    seed=0)
