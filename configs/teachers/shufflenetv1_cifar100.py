# Train shufflenetv1 on CIFAR-100 alone (a teacher, or the no-KD student
# baseline that the paper's cGAN-KD students start from).
#   python tools/train.py configs/teachers/shufflenetv1_cifar100.py
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar100_sgd_240e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    # the zoo lives in the plugin's (mmrazor's) registry: scope prefix
    backbone=dict(type='mmrazor.ShuffleNetV1CIFAR', groups=3),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=960,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)

# lr 0.01 for MobileNet / ShuffleNet, as in the CRD literature
optim_wrapper = dict(optimizer=dict(lr=0.01))
