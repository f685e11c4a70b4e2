# vgg8 regressing the rotation angle of Fashion-MNIST images (-45 to 45
# degrees, 28 px): mmpretrain's ImageClassifier on the plugin's backbone zoo.
# The teacher and student configs and the distillation bases take it from here
# (`_base_.vgg8_rotated_fashion_mnist`).
vgg8_rotated_fashion_mnist = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    backbone=dict(type='mmrazor.VGGCIFAR', arch='vgg8'),
    neck=dict(type='GlobalAveragePooling'),
    # the angle, normalised from [-45, 45] to [0, 1]; L1 = the MAE
    # reported
    head=dict(
        type='mmrazor.RegressionHead',
        in_channels=512,
        label_range=(-45.0, 45.0),
        loss_type='l1'),
)
