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

# the teacher's 55,000 training images (what the cGAN learns from, in
# its recipe; the real-image pool of the realbank configs)
teacher_train_dataset = dict(
    type='mmrazor.RotatedFashionMNIST',
    data_root='data/fashion_mnist',
    split='train',
    val_size=5000)

# the runner that lets CGANHook build the bank before the training
# dataloader is built (cgankd_plugin.engine.runner.CGANKDRunner)
runner_type = 'CGANKDRunner'
cgan_hook = dict(
    type='CGANHook',
    # the cGAN's training config, trained in <work_dir>/cgan unless
    # generator_ckpt is given; its overrides: cgan_cfg_options
    cgan='configs/cgan/ccgan_1xb64_rotated_fashion_mnist.py',
    cgan_cfg_options=dict(),
    generator_ckpt=None,
    # cDR-RS off; to switch it on, give subsample=dict(..., flip=False): a
    # mirror image turns the angle's sign
    subsample=None,
    # drop samples whose |teacher - angle| is above the 0.7 quantile of a
    # burn-in draw pooled over all angles (the official UTKFace setting)
    filter=dict(quantile=0.7, burn_in=20),
    # one grid point per degree, -45 ... 45
    num_label_values=91,
    bank_batch_size=250,
    seed=0,
    quality_samples=2000)
