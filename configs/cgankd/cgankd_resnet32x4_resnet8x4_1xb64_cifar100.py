# cGAN-KD alone (no KD loss): resnet8x4 trained with plain cross-entropy on
# real + processed cGAN samples, which the resnet32x4 teacher filtered and
# relabelled. The paper's "cGAN-KD over the student without KD" rows; its
# students start from their no-KD checkpoint:
#   --cfg-options load_from=<student ckpt> (see configs/teachers/resnet8x4)
_base_ = [
    '../_base_/distill/resnet32x4_resnet8x4_cifar100.py',
    '../_base_/cgankd/cifar100_biggan.py',
]

model = dict(
    # no distillation loss: the teacher only serves the bank
    distiller=dict(type='ConfigurableDistiller', distill_losses=dict()))
train_dataloader = dict(
    dataset=dict(_delete_=True, **_base_.cgankd_train_dataset))
custom_hooks = [_base_.cgan_hook]
