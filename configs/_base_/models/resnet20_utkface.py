# resnet20 for UTKFace age regression (ages 1-60, 64 px): mmpretrain's
# ImageClassifier on the plugin's backbone zoo. The teacher and student configs
# and the distillation bases take it from here (`_base_.resnet20_utkface`).
resnet20_utkface = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    # the zoo lives in the plugin's (mmrazor's) registry: scope prefix
    # The official 64x64 ResNet-20 strides its first stage too (64 -> 32
    # -> 16 -> 8); the zoo's CIFAR ResNet keeps it at stride 1 (64 -> 64 ->
    # 32 -> 16): the same weights, about 4x the compute per image.
    backbone=dict(type='mmrazor.ResNetCIFAR', arch='resnet20'),
    neck=dict(type='GlobalAveragePooling'),
    # The official regression CNNs end in Linear-BN-ReLU-Linear-BN-ReLU-
    # Linear(1)-ReLU and are trained with MSE on labels normalised to
    # [0, 1] (age / 60). ResNet-20 (widths 16-32-64) gives 64 channels.
    head=dict(
        type='mmrazor.RegressionHead',
        in_channels=64,
        label_range=(0.0, 60.0),
        hidden_channels=(512, 512),
        output_activation='relu',
        loss_type='l2'),
)
