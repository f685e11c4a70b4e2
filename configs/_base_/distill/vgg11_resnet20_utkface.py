# The teacher / student pair of cGAN-KD's UTKFace runs: VGG-11 (the
# filtering and relabelling net of the official scripts) -> ResNet-20,
# under mmrazor's single-teacher distillation. A cgankd config inherits
# this and adds `model.distiller` (empty for cGAN-KD alone) and the
# synthetic data.
_base_ = [
    '../models/resnet20_utkface.py',
    '../models/vgg11_utkface.py',
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
    architecture=_base_.resnet20_utkface,
    teacher=_base_.vgg11_utkface,
    # Train it with configs/teachers/vgg11_utkface.py, then point here (or
    # pass --cfg-options model.teacher_ckpt=...).
    teacher_ckpt='checkpoints/vgg11_utkface.pth',
)

find_unused_parameters = True
# Evaluates the student and logs the teacher's MAE too.
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
