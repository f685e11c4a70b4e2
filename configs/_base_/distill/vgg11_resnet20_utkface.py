# The teacher / student pair of cGAN-KD's UTKFace runs: VGG-11 (the
# filtering and relabelling net of the official scripts) -> ResNet-20,
# under mmrazor's single-teacher distillation. A cgankd config inherits
# this and adds `model.distiller` (empty for cGAN-KD alone) and the
# synthetic data.
_base_ = [
    '../datasets/utkface_bs128.py',
    '../schedules/regression_sgd.py',
    '../default_runtime.py',
]

# Both heads normalise ages by the official age / 60, so their outputs (what
# a KD term compares) live in the same units.
model = dict(
    _scope_='mmrazor',
    # mmrazor's SingleTeacherDistill, with the teacher loaded strictly.
    type='StrictTeacherDistill',
    architecture=dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(type='mmrazor.ResNetCIFAR', arch='resnet20'),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='mmrazor.RegressionHead',
            in_channels=64,
            label_range=(0.0, 60.0),
            hidden_channels=(512, 512),
            output_activation='relu',
            loss_type='l2')),
    teacher=dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(type='mmrazor.VGGCIFAR', arch='vgg11'),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='mmrazor.RegressionHead',
            in_channels=512,
            label_range=(0.0, 60.0),
            hidden_channels=(512, 512),
            output_activation='relu',
            loss_type='l2')),
    # Train it with configs/teachers/vgg11_utkface.py, then point here (or
    # pass --cfg-options model.teacher_ckpt=...).
    teacher_ckpt='checkpoints/vgg11_utkface.pth',
)

find_unused_parameters = True
# Evaluates the student and logs the teacher's MAE too.
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
