# cGAN-KD alone (no KD loss): resnet8x4 trained with plain cross-entropy on
# real + processed cGAN samples, which the resnet32x4 teacher filtered and
# relabelled. The paper's "cGAN-KD over the student without KD" rows.
#   python tools/train.py \
#       configs/cgankd/cgankd_resnet32x4_resnet8x4_1xb128_cifar100.py
_base_ = [
    '../_base_/distill/resnet32x4_resnet8x4_cifar100.py',
    '../_base_/cgankd/cifar100_biggan.py',
]

model = dict(
    # no distillation loss: the teacher only serves the bank
    distiller=dict(type='ConfigurableDistiller', distill_losses=dict()))
train_dataloader = dict(
    batch_size=_base_.finetune_batch_size,
    dataset=dict(_delete_=True, **_base_.cgankd_train_dataset))
# The official bank of cGAN-KD alone (CIFAR-100/RepDistiller/scripts/
# vanilla/run_vanilla_fake.sh: ..._perc_0.90_adjust_True_...): q 0.9, every
# kept sample relabelled with the teacher's argmax.
custom_hooks = [
    dict(
        _base_.cgan_hook,
        filter=dict(_base_.cgan_hook.filter, quantile=0.9),
        relabel='hard')
]

# the official student protocol (see ../_base_/cgankd/cifar100_biggan.py)
load_from = _base_.no_kd_student
optim_wrapper = dict(optimizer=dict(lr=_base_.finetune_lr))
auto_scale_lr = dict(base_batch_size=_base_.finetune_batch_size)
