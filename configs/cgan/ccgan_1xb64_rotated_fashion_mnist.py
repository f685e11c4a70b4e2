# The rotated Fashion-MNIST demo's CcGAN (the target is the angle), trained
# by MMEngine's Runner (the first stage of the two-stage recipe):
#   python tools/train.py configs/cgan/ccgan_1xb64_rotated_fashion_mnist.py
# then give its weights to a cGAN-KD config of the regression demo:
#   --cfg-options custom_hooks.0.generator_ckpt=PATH/TO/iter_3000.pth
# The network, the vicinity, the optimisers and the length are CGANHook's
# (configs/_base_/cgankd/rotated_fashion_mnist_ccgan.py). CcGAN's vicinal
# batches need every training label: VicinalBatchSampler draws them from
# the labels of the VicinalDataset (targets, a real image in each target's
# vicinity, the fakes' labels and weights), the dataloader reads those
# images. A Runner iteration is one discriminator update.
_base_ = [
    '../_base_/cgankd/rotated_fashion_mnist_ccgan.py',
    '../_base_/cgan_runtime.py',
]

gan = _base_.cgan_hook.gan
model = dict(
    gan, data_preprocessor=dict(type='ConditionalGANDataPreprocessor'))

train_dataloader = dict(
    batch_size=_base_.cgan_hook.gan_batch_size,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        type='VicinalDataset',
        dataset=dict(
            _base_.gan_dataset, pipeline=[dict(type='mmpretrain.PackInputs')
                                          ])),
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
