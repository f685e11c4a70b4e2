# Train VGG-19 (BN) on ImageNet-100 at 128x128 (the paper's teacher).
#   python tools/train.py configs/teachers/vgg19_imagenet100.py
# The schedule is the CRD literature's CIFAR one (_base_/schedules); the
# paper's own ImageNet-100 schedule may differ.
_base_ = [
    '../_base_/datasets/imagenet100_bs128.py',
    '../_base_/schedules/cifar100_sgd_240e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    backbone=dict(type='mmrazor.VGGCIFAR', arch='vgg19'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
