# Train vgg13 on CIFAR-100 alone (a teacher, or the no-KD student
# baseline that the paper's cGAN-KD students start from).
#   python tools/train.py configs/teachers/vgg13_cifar100.py
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar100_sgd_240e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    # the zoo lives in the plugin's (mmrazor's) registry: scope prefix
    backbone=dict(type='mmrazor.VGGCIFAR', arch='vgg13'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
