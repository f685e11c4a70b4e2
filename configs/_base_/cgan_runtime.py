# The runtime of every configs/cgan/*.py: MMEngine's, as the plugin's
# other configs, for a cGAN trained alone by the Runner.
_base_ = ['./default_runtime.py']

# distributed: each network in its own DDP wrapper (MMEngine's GAN
# pattern); the step runs the network it does not update unwrapped
model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)
# cuDNN picks the fastest convolution algorithms for the fixed batch
# shape, as the official BigGAN does (also when CGANHook trains the recipe)
env_cfg = dict(cudnn_benchmark=True)
# a cGAN has no validation set here: its quality figure is CGANHook's
val_cfg = None
val_dataloader = None
val_evaluator = None
test_cfg = None
log_processor = dict(by_epoch=False)

# one optimiser per network: mmrazor's constructor builds an
# OptimWrapperDict over the model's `generator` and `discriminator`; each
# config gives their `optimizer`
optim_wrapper = dict(
    constructor='SeparateOptimWrapperConstructor',
    generator=dict(type='OptimWrapper'),
    discriminator=dict(type='OptimWrapper'))
# iterations, not epochs: each config gives the checkpoint interval (in
# Runner iterations, one discriminator update each)
default_hooks = dict(
    logger=dict(interval=100),
    checkpoint=dict(by_epoch=False, max_keep_ckpts=2))
# a grid of samples (one row per condition) in vis_data/vis_image every
# 2,000 iterations and at the end
custom_hooks = [dict(type='CGANSampleHook', interval=2000)]
