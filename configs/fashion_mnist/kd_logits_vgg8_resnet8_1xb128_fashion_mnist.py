# The KD fine-tune (Hinton et al.), vgg8 -> resnet8: the converged student
# (resnet8_1xb128_fashion_mnist.py) fine-tuned with KD on its 2,000 real
# images, with the steps and schedule of every fine-tune of the experiment
# (resnet8_finetune_1xb128_fashion_mnist.py): the control of KD + cGAN-KD. The
# official KD weights (cGAN-KD's RepDistiller run_distill.sh: -r 0.1 -a 0.9):
# CE 0.1, KL 0.9 at T = 4.
#   python tools/train.py \
#       configs/fashion_mnist/kd_logits_vgg8_resnet8_1xb128_fashion_mnist.py \
#       --cfg-options \
#       model.teacher_ckpt=work_dirs/vgg8_1xb128_fashion_mnist/iter_1290.pth \
#       load_from=work_dirs/resnet8_1xb128_fashion_mnist/epoch_80.pth
_base_ = [
    './resnet8_finetune_1xb128_fashion_mnist.py',
    '../_base_/models/vgg8_fashion_mnist.py',
]

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    # mmrazor's SingleTeacherDistill, with the teacher loaded strictly.
    type='StrictTeacherDistill',
    architecture=dict(
        _base_.resnet8_fashion_mnist,
        head=dict(
            _base_.resnet8_fashion_mnist.head,
            loss=dict(type='CrossEntropyLoss', loss_weight=0.1))),
    teacher=_base_.vgg8_fashion_mnist,
    # The vgg8_1xb128_fashion_mnist.py teacher: put its checkpoint here
    # (or pass --cfg-options model.teacher_ckpt=..., as demo/fashion_mnist
    # does).
    teacher_ckpt='checkpoints/vgg8_1xb128_fashion_mnist.pth',
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
# val_cfg stays the plain loop of the student config: it evaluates the
# student only (the teacher's top-1 is stage 1's, and evaluating it again
# would cost the vgg8 forward over the 10,000 test images).
