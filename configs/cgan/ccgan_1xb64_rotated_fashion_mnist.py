# The rotated Fashion-MNIST CcGAN (rotation-angle regression, soft
# vicinity), sized for 2 CPU cores. VicinalBatchSampler draws each batch
# from the labels of the VicinalDataset (the teacher's 55,000 rotated
# training images). Alone:
#   python tools/train.py configs/cgan/ccgan_1xb64_rotated_fashion_mnist.py
# or as the cGAN of cgankd_*_rotated_fashion_mnist.py (CGANHook.cgan).
_base_ = ['../_base_/cgan_runtime.py']

model = dict(
    type='ContinuousConditionalGAN',
    img_size=28,
    img_channels=1,
    noise_dim=64,
    generator=dict(type='DCGANGenerator', base_channels=32),
    discriminator=dict(type='DCGANDiscriminator', base_channels=32),
    discriminator_steps=1,
    # SVDL; kappa = 2 x the largest gap between sorted distinct labels;
    # sigma by the rule of thumb
    vicinity='soft',
    kappa=-2,
    sigma=None,
    ema_config=dict(
        type='ExponentialMovingAverage',
        momentum=0.01,
        update_buffers=True,
        start_iter=100),
    diff_augment='translation',
    data_preprocessor=dict(type='ConditionalGANDataPreprocessor'))

train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        type='VicinalDataset',
        dataset=dict(
            type='mmrazor.RotatedFashionMNIST',
            data_root='data/fashion_mnist',
            split='train',
            val_size=5000,
            pipeline=[dict(type='mmpretrain.PackInputs')])),
    # the sampler only holds the dataset: the batches are drawn
    sampler=dict(type='DefaultSampler', shuffle=False),
    batch_sampler=dict(
        type='VicinalBatchSampler',
        vicinity=model['vicinity'],
        kappa=model['kappa'],
        sigma=model['sigma'],
        seed=0),
    collate_fn=dict(type='default_collate'))
optim_wrapper = dict(
    generator=dict(
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))
train_cfg = dict(by_epoch=False, max_iters=3000)
default_hooks = dict(checkpoint=dict(interval=500))
