# vgg8 regressing the rotation angle of Fashion-MNIST images (55,000
# training images): the teacher of the experiment's regression task
# (tools/run_demo.py), whose filter and relabelling it serves.
#   python tools/train.py configs/fashion_mnist/vgg8_rotated_fashion_mnist.py
# Sized like vgg8_fashion_mnist.py: three epochs of batch 128 (1,290
# iterations) at 28 px, about a quarter of an hour on 2 CPU cores.
_base_ = [
    '../_base_/datasets/rotated_fashion_mnist_bs128.py',
    '../_base_/default_runtime.py',
]

model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    backbone=dict(type='mmrazor.VGGCIFAR', arch='vgg8'),
    neck=dict(type='GlobalAveragePooling'),
    # the angle, normalised from [-45, 45] to [0, 1]; L1 = the MAE
    # reported
    head=dict(
        type='mmrazor.RegressionHead',
        in_channels=512,
        label_range=(-45.0, 45.0),
        loss_type='l1'),
)

max_iters = 1290
warmup_iters = 60
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4,
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
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
