# cGAN-KD + an output KD term on UTKFace: as
# cgankd_vgg11_resnet20_1xb128_utkface.py (ResNet-20 on real + filtered,
# relabelled CcGAN samples, MSE), plus the L1 distance between the
# student's and the teacher's predicted ages on every batch, real and fake.
# Both heads output normalised ages (age / 60): the forward output of
# RegressionHead, shape (N,), is what the recorders on `head` pick up. The
# paper trains its regression students without such a term; the weight
# here (1.0, beside an MSE of unit weight) is this project's choice.
_base_ = ['./cgankd_vgg11_resnet20_1xb128_utkface.py']

model = dict(
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            value=dict(type='ModuleOutputs', source='head')),
        teacher_recorders=dict(
            value=dict(type='ModuleOutputs', source='head')),
        distill_losses=dict(loss_l1=dict(type='L1Loss', loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_l1=dict(
                s_feature=dict(from_student=True, recorder='value'),
                t_feature=dict(from_student=False, recorder='value')))))
