# resnet8 alone on the first 2,000 Fashion-MNIST training images: the
# student baseline of the default demo (tools/run_demo.py, stage 2).
#   python tools/train.py configs/fashion_mnist/resnet8_fashion_mnist.py
# The fixed low-data subset (mmpretrain's `indices=2000`: the first 2,000
# images, 186 to 216 per class) is the regime where cGAN-KD adds generated
# images; the KD config inherits this file so both students see the same
# data under the same schedule.
_base_ = [
    '../_base_/datasets/fashion_mnist_bs128.py',
    '../_base_/default_runtime.py',
]

model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    backbone=dict(type='mmrazor.ResNetCIFAR', arch='resnet8'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)

# Flips only: in a schedule this short the student underfits, and the
# base's random crops cost it accuracy (measured: 76.6 % top-1 with them,
# 80.0 % without); the teacher, trained without crops too, then sees the
# student's inputs as it was trained on them.
train_pipeline = [
    dict(type='mmrazor.GrayToRGB'),
    dict(type='mmpretrain.Resize', scale=(32, 32)),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs'),
]
# With an iteration-based loop, DefaultSampler makes MMEngine sleep 2 s at
# every epoch rollover (here every 16 iterations); InfiniteSampler never
# rolls over.
train_dataloader = dict(
    dataset=dict(indices=2000, pipeline=train_pipeline),
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True))

# 240 iterations of 128 = about 15 passes over the 2,000 images
max_iters = 240
warmup_iters = 24
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4,
        nesterov=True))
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
val_cfg = dict()
test_cfg = dict()

default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
