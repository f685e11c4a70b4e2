# CRD (Tian et al., 2020) resnet32x4 -> resnet8x4 on CIFAR-100 with the
# RepDistiller settings: feat_dim 128, nce_k 16384, nce_t 0.07, nce_m 0.5.
# Loss: CE + KL (T 4) + 0.8 CRD, as cGAN-KD's official CRD runs
# (CIFAR-100/RepDistiller/scripts/distill/run_distill.sh and
# run_distill_fake.sh: --distill crd -a 1 -b 0.8).
# The memory bank holds one entry per training sample: CRDMemorySizeHook
# sizes it from the training set, so changing the data needs no second edit.
_base_ = ['../_base_/distill/resnet32x4_resnet8x4_cifar100.py']

nce_k = 16384
model = dict(
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            feat=dict(type='ModuleOutputs', source='neck.gap'),
            logits=dict(type='ModuleOutputs', source='head.fc'),
            data_samples=dict(type='ModuleInputs', source='')),
        teacher_recorders=dict(
            feat=dict(type='ModuleOutputs', source='neck.gap'),
            logits=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kd=dict(
                type='KLDivergence',
                tau=4,
                loss_weight=1.0,
                reduction='batchmean'),
            loss_crd=dict(
                # mmrazor's CRDLoss ignores its loss_weight; this applies it
                type='WeightedCRDLoss',
                loss_weight=0.8,
                neg_num=nce_k,
                dim_out=128,
                temperature=0.07,
                momentum=0.5)),
        connectors=dict(
            loss_crd_stu=dict(type='CRDConnector', dim_in=256, dim_out=128),
            loss_crd_tea=dict(type='CRDConnector', dim_in=256, dim_out=128)),
        loss_forward_mappings=dict(
            loss_kd=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')),
            loss_crd=dict(
                s_feats=dict(
                    from_student=True,
                    recorder='feat',
                    connector='loss_crd_stu'),
                t_feats=dict(
                    from_student=False,
                    recorder='feat',
                    connector='loss_crd_tea'),
                data_samples=dict(
                    from_student=True, recorder='data_samples',
                    data_idx=1)))))

# CRD's dataset wrapper draws the contrast indices; the pipeline packs them.
crd_train_pipeline = _base_.train_pipeline[:-1] + [
    dict(type='mmrazor.PackCRDInputs')
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CRDContrastDataset',
        dataset=dict(
            type=_base_.dataset_type,
            data_root=_base_.data_root,
            split='train',
            check_md5=True,
            pipeline=crd_train_pipeline),
        neg_num=nce_k,
        sample_mode='exact',
        percent=1.0))

custom_hooks = [dict(type='CRDMemorySizeHook')]
