# vgg8 for ImageNet-100 (100 classes, 128 px): mmpretrain's ImageClassifier on
# the plugin's backbone zoo. The no-KD student config and the distillation
# configs take it from here (`_base_.vgg8_imagenet100`).
vgg8_imagenet100 = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    backbone=dict(type='mmrazor.VGGCIFAR', arch='vgg8'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
