# The cGAN-KD parts for CIFAR-100, shared by configs/cgankd/*_cifar100.py.
# They read `cgankd_train_dataset` and `cgan_hook` from here. Defaults follow
# the paper and its official code (a comment names each source).

# The official student protocol (UBCDingXin/cGAN-KD, CIFAR-100/RepDistiller/
# scripts/distill/run_distill_fake.sh and vanilla/run_vanilla_fake.sh, with
# --finetune): start from the converged no-KD resnet8x4, which
# configs/teachers/resnet8x4_cifar100.py writes here (load_from=None trains
# from scratch), and train 240 epochs over the 50k real + 100k fake images,
# SGD lr 0.01, batch 128, x0.1 at 150/180/210, weight decay 5e-4. Each
# config sets load_from, lr and batch from these: its other base sets those
# keys too, and MMEngine refuses a key that two bases both set.
no_kd_student = 'work_dirs/resnet8x4_cifar100/epoch_240.pth'
finetune_lr = 0.01
finetune_batch_size = 128

# Fake samples the student sees on top of the 50k real images. The paper
# trains on 100k fake (1,000 per class, drawn from banks of 5,000 accepted
# per class) + 50k real images.
num_fake = 100000

cgankd_train_pipeline = [
    dict(type='mmpretrain.RandomCrop', crop_size=32, padding=4),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    # fake samples take the labels stored in the bank (the teacher's with
    # relabel='hard', their generating class with relabel='none')
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
    # the cGAN's training config, trained in <work_dir>/cgan unless
    # generator_ckpt is given; its overrides: cgan_cfg_options
    cgan='configs/cgan/biggan_1xb512_cifar100.py',
    cgan_cfg_options=dict(),
    # or the path of trained cGAN weights, to skip its training
    generator_ckpt=None,
    # cDR-RS on the teacher's penultimate features (MLP-5, penalty 0.01,
    # Adam lr 1e-4, batch 256, 200 epochs with lr / 10 at epochs 80 and
    # 150: make_fake_datasets/scripts/run.sh); every step compares a real
    # batch, each image flipped at random (its transform_dre), with fakes
    # generated afresh at its labels; a class's bound M is the largest
    # ratio of burn_in fresh fakes (--samp_burnin_size 5000), raised by
    # every later batch. None switches subsampling off
    subsample=dict(
        epochs=200,
        batch_size=256,
        lr=1e-4,
        penalty=0.01,
        lr_decay_epochs=(80, 150),
        burn_in=5000,
        flip=True),
    # per class, drop samples whose teacher cross-entropy is above the
    # q-quantile of a burn-in of 1,000 cDR-RS survivors
    # (--samp_filter_burnin_size 1000); add filter_model=dict(model=...,
    # checkpoint=...) to filter with a stronger net than the teacher (the
    # paper uses DenseNet-121). The official bank of every KD-stacked run
    # (RepDistiller/scripts/distill/run_distill_fake.sh: ..._perc_0.80_
    # adjust_False_...): q 0.8, the generating class kept as the label.
    # cGAN-KD alone overrides both (q 0.9, the teacher's argmax).
    filter=dict(quantile=0.8, burn_in=1000),
    relabel='none',
    bank_batch_size=500,
    seed=0)
