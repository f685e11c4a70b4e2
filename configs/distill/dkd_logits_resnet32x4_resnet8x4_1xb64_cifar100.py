# DKD (Zhao et al., 2022) resnet32x4 -> resnet8x4 on CIFAR-100 with the
# paper's CIFAR settings: T = 4, alpha 1, beta 8, CE weight 1.
# reduction='batchmean': mmrazor's DKDLoss with 'mean' silently sums.
# Labels reach the loss through the inputs of the student's loss module;
# batch augmentations that turn labels into scores (Mixup, CutMix) cannot
# be used with DKD.
_base_ = ['../_base_/distill/resnet32x4_resnet8x4_cifar100.py']

model = dict(
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            logits=dict(type='ModuleOutputs', source='head.fc'),
            gt_labels=dict(type='ModuleInputs', source='head.loss_module')),
        teacher_recorders=dict(
            logits=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_dkd=dict(
                type='DKDLoss',
                tau=4,
                alpha=1.0,
                beta=8.0,
                reduction='batchmean',
                loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_dkd=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits'),
                gt_labels=dict(
                    from_student=True, recorder='gt_labels', data_idx=1)))))
