# Train resnet20 on UTKFace (ages 1-60) alone: the no-KD student
# baseline (paper: MAE 6.87 -> 4.92 with cGAN-KD), whose last checkpoint the
# cGAN-KD student is fine-tuned from.
#   python tools/train.py configs/teachers/resnet20_utkface.py
_base_ = [
    '../_base_/datasets/utkface_bs128.py',
    '../_base_/schedules/regression_sgd.py',
    '../_base_/default_runtime.py',
]

model = dict(
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
