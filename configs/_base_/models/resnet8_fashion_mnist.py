# resnet8 for Fashion-MNIST (10 classes, 28 px, the gray image repeated to 3
# channels): mmpretrain's ImageClassifier on the plugin's backbone zoo. The
# teacher and student configs and the distillation bases take it from here
# (`_base_.resnet8_fashion_mnist`).
resnet8_fashion_mnist = dict(
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
