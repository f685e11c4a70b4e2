# KD resnet32x4 -> resnet8x4 on CIFAR-100 + cGAN-KD: the stock
# configs/distill/ twin, trained on real + processed cGAN samples, with the
# official weights (run_distill_fake.sh -r 0.1 -a 0.9): 0.1 CE + 0.9 KL, T 4.
#   python tools/train.py \
#       configs/cgankd/cgankd_kd_logits_resnet32x4_resnet8x4_1xb128_cifar100.py
_base_ = [
    '../distill/kd_logits_resnet32x4_resnet8x4_1xb64_cifar100.py',
    '../_base_/cgankd/cifar100_biggan.py',
]

train_dataloader = dict(
    batch_size=_base_.finetune_batch_size,
    dataset=dict(_delete_=True, **_base_.cgankd_train_dataset))
# knobs: --cfg-options custom_hooks.0.cgan_cfg_options.train_cfg.max_iters=...
custom_hooks = [_base_.cgan_hook]

# the official student protocol (see ../_base_/cgankd/cifar100_biggan.py)
load_from = _base_.no_kd_student
optim_wrapper = dict(optimizer=dict(lr=_base_.finetune_lr))
auto_scale_lr = dict(base_batch_size=_base_.finetune_batch_size)
