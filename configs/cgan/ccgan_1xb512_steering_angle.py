# The Steering Angle CcGAN of cGAN-KD (64x64, the soft vicinity), trained
# by MMEngine's Runner (the first stage of the two-stage recipe):
#   python tools/train.py configs/cgan/ccgan_1xb512_steering_angle.py
# then give its weights to a cGAN-KD Steering Angle config:
#   --cfg-options custom_hooks.0.generator_ckpt=PATH/TO/iter_40000.pth
# The network, the vicinity (kappa = 5 x the largest label gap), the
# optimisers, the batch and the length are CGANHook's
# (configs/_base_/cgankd/steering_angle_ccgan.py, the official run's
# settings). VicinalBatchSampler draws each batch from the labels of the
# VicinalDataset (the student's training frames); a Runner iteration is one
# discriminator update: 20,000 generator steps of 2 discriminator steps
# are 40,000 iterations.
_base_ = [
    '../_base_/cgankd/steering_angle_ccgan.py',
    '../_base_/cgan_runtime.py',
]

gan = _base_.cgan_hook.gan
model = dict(
    gan, data_preprocessor=dict(type='ConditionalGANDataPreprocessor'))

train_dataloader = dict(
    batch_size=_base_.cgan_hook.gan_batch_size,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type='VicinalDataset',
        dataset=dict(
            _base_.cgankd_train_dataset.dataset,
            pipeline=[dict(type='mmpretrain.PackInputs')])),
    # the sampler is only the dataset's holder: the batches are drawn
    sampler=dict(type='DefaultSampler', shuffle=False),
    batch_sampler=dict(
        type='VicinalBatchSampler',
        vicinity=gan.vicinity,
        kappa=gan.kappa,
        sigma=gan.sigma,
        seed=_base_.cgan_hook.seed),
    collate_fn=dict(type='default_collate'))
optim_wrapper = dict(
    generator=dict(optimizer=_base_.cgan_hook.gan_optimizers.generator),
    discriminator=dict(
        optimizer=_base_.cgan_hook.gan_optimizers.discriminator))
max_iters = _base_.cgan_hook.gan_iters * gan.discriminator_steps
train_cfg = dict(by_epoch=False, max_iters=max_iters)

checkpoint_interval = (_base_.cgan_hook.gan_checkpoint_interval *
                       gan.discriminator_steps)
default_hooks = dict(checkpoint=dict(interval=checkpoint_interval))
