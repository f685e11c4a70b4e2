# resnet32x4 for CIFAR-100 (100 classes, 32 px): mmpretrain's ImageClassifier
# on the plugin's backbone zoo. The teacher and student configs and the
# distillation bases take it from here (`_base_.resnet32x4_cifar100`).
resnet32x4_cifar100 = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    # the zoo lives in the plugin's (mmrazor's) registry: scope prefix
    backbone=dict(type='mmrazor.ResNetCIFAR', arch='resnet32x4'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=256,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
