# KD (Hinton et al.) resnet32x4 -> resnet8x4 on CIFAR-100, with the settings
# of the CRD literature (RepDistiller): T = 4, loss = 0.1 CE + 0.9 KL.
_base_ = ['../_base_/distill/resnet32x4_resnet8x4_cifar100.py']

model = dict(
    architecture=dict(head=dict(loss=dict(loss_weight=0.1))),
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
