# The teacher / student pair resnet32x4 -> resnet8x4 on CIFAR-100, under
# mmrazor's single-teacher distillation. A distill config inherits this and
# only adds `model.distiller` (its recorders and losses).
_base_ = [
    '../models/resnet8x4_cifar100.py',
    '../models/resnet32x4_cifar100.py',
    '../datasets/cifar100_bs64.py',
    '../schedules/cifar100_sgd_240e.py',
    '../default_runtime.py',
]

model = dict(
    _scope_='mmrazor',
    # mmrazor's SingleTeacherDistill, with the teacher loaded strictly.
    type='StrictTeacherDistill',
    architecture=_base_.resnet8x4_cifar100,
    teacher=_base_.resnet32x4_cifar100,
    # Train it with configs/teachers/resnet32x4_cifar100.py, then point
    # here (or pass --cfg-options model.teacher_ckpt=...).
    teacher_ckpt='checkpoints/resnet32x4_cifar100.pth',
)

find_unused_parameters = True
# Evaluates the student and logs the teacher's accuracy too.
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
