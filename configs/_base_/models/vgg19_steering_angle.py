# vgg19 for Steering Angle regression (64 px): mmpretrain's ImageClassifier on
# the plugin's backbone zoo. The teacher and student configs and the
# distillation bases take it from here (`_base_.vgg19_steering_angle`).
vgg19_steering_angle = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    # the zoo lives in the plugin's (mmrazor's) registry: scope prefix
    backbone=dict(type='mmrazor.VGGCIFAR', arch='vgg19'),
    neck=dict(type='GlobalAveragePooling'),
    # The official regression CNNs end in Linear-BN-ReLU-Linear-BN-ReLU-
    # Linear(1)-ReLU and are trained with MSE on labels normalised to
    # [0, 1] ((angle + 88.13) / 186.05). The official VGG flattens its
    # 2x2x512 map into the first Linear; here the map is pooled (512).
    head=dict(
        type='mmrazor.RegressionHead',
        in_channels=512,
        label_range=(-88.13, 97.92),
        hidden_channels=(512, 512),
        output_activation='relu',
        loss_type='l2'),
)
