# KD VGG-19 -> VGG-8 on ImageNet-100 at 128x128 (the paper's pair), with
# the KD settings of the CIFAR configs: T = 4, loss = 0.1 CE + 0.9 KL.
_base_ = [
    '../_base_/models/vgg8_imagenet100.py',
    '../_base_/models/vgg19_imagenet100.py',
    '../_base_/datasets/imagenet100_bs128.py',
    '../_base_/schedules/cifar100_sgd_240e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    _scope_='mmrazor',
    type='StrictTeacherDistill',
    architecture=dict(
        _base_.vgg8_imagenet100,
        head=dict(
            _base_.vgg8_imagenet100.head,
            loss=dict(type='CrossEntropyLoss', loss_weight=0.1))),
    teacher=_base_.vgg19_imagenet100,
    # from configs/teachers/vgg19_imagenet100.py
    teacher_ckpt='checkpoints/vgg19_imagenet100.pth',
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            logits=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            logits=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kd=dict(
                type='KLDivergence',
                tau=4,
                loss_weight=0.9,
                reduction='batchmean')),
        loss_forward_mappings=dict(
            loss_kd=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')))))

find_unused_parameters = True
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
