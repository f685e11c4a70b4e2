# resnet8 regressing the rotation angle from the first 2,000 rotated
# Fashion-MNIST training images alone: the student baseline of the demo's
# regression task (tools/run_demo.py).
#   python tools/train.py \
#       configs/fashion_mnist/resnet8_rotated_fashion_mnist.py
# Same subset and schedule as the classification student
# (resnet8_fashion_mnist.py): 240 x 128.
_base_ = ['./vgg8_rotated_fashion_mnist.py']

model = dict(
    backbone=dict(arch='resnet8', type='mmrazor.ResNetCIFAR'),
    head=dict(in_channels=64))

train_dataloader = dict(batch_size=128, dataset=dict(indices=2000))

max_iters = 240
warmup_iters = 24
optim_wrapper = dict(optimizer=dict(lr=0.1))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=False,
        begin=0,
        end=warmup_iters),
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=warmup_iters,
        end=max_iters,
        eta_min=0.0),
]
train_cfg = dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))
