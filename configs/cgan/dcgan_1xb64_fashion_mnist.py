# The Fashion-MNIST demo's class-conditional DCGAN, trained by MMEngine's
# Runner (the first stage of the two-stage recipe, as mmrazor's _pretrain /
# _train configs):
#   python tools/train.py configs/cgan/dcgan_1xb64_fashion_mnist.py
# then give its weights to a cGAN-KD config:
#   --cfg-options custom_hooks.0.generator_ckpt=PATH/TO/iter_12000.pth
# The network, the EMA, DiffAugment, the optimisers and the length are
# CGANHook's (configs/_base_/cgankd/fashion_mnist_dcgan.py); the real
# images come from the Runner's dataloader (the teacher's 55,000 training
# images, 1-channel at 28 px, as the bank stores them), losses go to the
# log and scalars.json, checkpoints through AtomicCheckpointHook, and
# --resume, --amp and tools/dist_train.sh work as for any config.
_base_ = [
    '../_base_/cgankd/fashion_mnist_dcgan.py',
    '../_base_/cgan_runtime.py',
]

model = dict(
    _base_.cgan_hook.gan,
    data_preprocessor=dict(type='ConditionalGANDataPreprocessor'))

train_dataloader = dict(
    batch_size=_base_.cgan_hook.gan_batch_size,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        _base_.gan_dataset, pipeline=[dict(type='mmpretrain.PackInputs')]),
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'))
optim_wrapper = dict(
    generator=dict(optimizer=_base_.cgan_hook.gan_optimizers.generator),
    discriminator=dict(
        optimizer=_base_.cgan_hook.gan_optimizers.discriminator))
max_iters = _base_.cgan_hook.gan_iters
train_cfg = dict(by_epoch=False, max_iters=max_iters)

checkpoint_interval = _base_.cgan_hook.gan_checkpoint_interval
default_hooks = dict(checkpoint=dict(interval=checkpoint_interval))
