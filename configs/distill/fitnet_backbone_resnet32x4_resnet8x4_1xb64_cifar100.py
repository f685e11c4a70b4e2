# FitNet (Romero et al.) resnet32x4 -> resnet8x4 on CIFAR-100, with the
# settings of the CRD literature (RepDistiller): hint on the output of the
# second stage through a conv regressor. Loss: CE + KL (T 4) + 100 MSE, as
# cGAN-KD's official FitNet runs (CIFAR-100/RepDistiller/scripts/distill/
# run_distill.sh and run_distill_fake.sh: --distill hint -a 1 -b 100).
# Whole stages are recorded (a ReLU runs several times per block).
_base_ = ['../_base_/distill/resnet32x4_resnet8x4_cifar100.py']

model = dict(
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            hint=dict(type='ModuleOutputs', source='backbone.layer2'),
            logits=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            hint=dict(type='ModuleOutputs', source='backbone.layer2'),
            logits=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kd=dict(
                type='KLDivergence',
                tau=4,
                loss_weight=1.0,
                reduction='batchmean'),
            loss_fitnet=dict(
                type='L2Loss',
                loss_weight=100,
                normalize=False,
                div_element=True)),
        connectors=dict(
            loss_fitnet_sfeat=dict(
                type='ConvModuleConnector',
                in_channel=128,
                out_channel=128,
                kernel_size=3,
                padding=1,
                norm_cfg=dict(type='BN'),
                act_cfg=dict(type='ReLU'))),
        loss_forward_mappings=dict(
            loss_kd=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')),
            loss_fitnet=dict(
                s_feature=dict(
                    from_student=True,
                    recorder='hint',
                    connector='loss_fitnet_sfeat'),
                t_feature=dict(from_student=False, recorder='hint')))))
