# The teacher / student pair of cGAN-KD's Steering Angle runs: VGG-19 (the
# filtering and relabelling net of the official scripts) -> ResNet-20,
# under mmrazor's single-teacher distillation. A cgankd config inherits
# this and adds `model.distiller` (empty for cGAN-KD alone) and the
# synthetic data.
_base_ = [
    '../models/resnet20_steering_angle.py',
    '../models/vgg19_steering_angle.py',
    '../datasets/steering_angle_bs128.py',
    '../schedules/regression_sgd.py',
    '../default_runtime.py',
]

# Both heads normalise angles by the official (angle + 88.13) / 186.05, so
# their outputs (what a KD term compares) live in the same units.
model = dict(
    _scope_='mmrazor',
    # mmrazor's SingleTeacherDistill, with the teacher loaded strictly.
    type='StrictTeacherDistill',
    architecture=_base_.resnet20_steering_angle,
    teacher=_base_.vgg19_steering_angle,
    # Train it with configs/teachers/vgg19_steering_angle.py, then point
    # here (or pass --cfg-options model.teacher_ckpt=...).
    teacher_ckpt='checkpoints/vgg19_steering_angle.pth',
)

find_unused_parameters = True
# Evaluates the student and logs the teacher's MAE too.
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
