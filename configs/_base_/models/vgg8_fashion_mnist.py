# vgg8 for Fashion-MNIST (10 classes, 28 px, the gray image repeated to 3
# channels): mmpretrain's ImageClassifier on the plugin's backbone zoo. The
# teacher and student configs and the distillation bases take it from here
# (`_base_.vgg8_fashion_mnist`).
vgg8_fashion_mnist = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    # the zoo lives in the plugin's (mmrazor's) registry: scope prefix
    backbone=dict(type='mmrazor.VGGCIFAR', arch='vgg8'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
