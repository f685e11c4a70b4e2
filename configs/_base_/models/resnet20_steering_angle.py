# resnet20 for Steering Angle regression (64 px): mmpretrain's ImageClassifier
# on the plugin's backbone zoo. The teacher and student configs and the
# distillation bases take it from here (`_base_.resnet20_steering_angle`).
resnet20_steering_angle = dict(
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
    # [0, 1] ((angle + 88.13) / 186.05). ResNet-20 (widths 16-32-64)
    # gives 64 channels.
    head=dict(
        type='mmrazor.RegressionHead',
        in_channels=64,
        label_range=(-88.13, 97.92),
        hidden_channels=(512, 512),
        output_activation='relu',
        loss_type='l2'),
)
