# DKD resnet32x4 -> resnet8x4 on CIFAR-100 + cGAN-KD: the stock
# configs/distill/ twin, trained on real + processed cGAN samples. The
# official code has no DKD run: its loss weights are DKD's own (the twin's),
# its protocol and bank those of every KD-stacked run (below).
#   python tools/train.py \
#       configs/cgankd/cgankd_dkd_logits_resnet32x4_resnet8x4_1xb128_cifar100.py
_base_ = [
    '../distill/dkd_logits_resnet32x4_resnet8x4_1xb64_cifar100.py',
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
