# The runtime of every configs/cgan/*.py: MMEngine's, as the plugin's
# other configs, for a cGAN trained alone by the Runner.
_base_ = ['./default_runtime.py']

# distributed: each network in its own DDP wrapper (MMEngine's GAN
# pattern); the step runs the network it does not update unwrapped
model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)
# a cGAN has no validation set here: its quality figure is CGANHook's
val_cfg = None
val_dataloader = None
val_evaluator = None
test_cfg = None
log_processor = dict(by_epoch=False)
