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
    batch_size=128,
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

# The official student protocol (run_vanilla_fake.sh, train_teacher.py
# --finetune): start from the converged no-KD resnet8x4
# (configs/teachers/resnet8x4_cifar100.py writes it; load_from=None trains
# from scratch) and train 240 epochs over the 50k real + 100k fake images,
# SGD lr 0.01, batch 128, x0.1 at 150/180/210, weight decay 5e-4.
load_from = 'work_dirs/resnet8x4_cifar100/epoch_240.pth'
optim_wrapper = dict(optimizer=dict(lr=0.01))
auto_scale_lr = dict(base_batch_size=128)
