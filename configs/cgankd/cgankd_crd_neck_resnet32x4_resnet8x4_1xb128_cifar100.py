# CRD resnet32x4 -> resnet8x4 on CIFAR-100 + cGAN-KD: the stock
# configs/distill/ twin, trained on real + processed cGAN samples, with the
# official weights (run_distill_fake.sh -a 1 -b 0.8): CE + KL (T 4) + 0.8
# CRD. CRD's memory bank covers real and fake samples (CRDMemorySizeHook
# sizes it).
#   python tools/train.py \
#       configs/cgankd/cgankd_crd_neck_resnet32x4_resnet8x4_1xb128_cifar100.py
_base_ = [
    '../distill/crd_neck_resnet32x4_resnet8x4_1xb64_cifar100.py',
    '../_base_/cgankd/cifar100_biggan.py',
]

_crd_pipeline = _base_.cgankd_train_pipeline[:-1] + [
    dict(type='mmrazor.PackCRDInputs')
]
_mix = _base_.cgankd_train_dataset
_mix['dataset']['pipeline'] = _crd_pipeline
train_dataloader = dict(
    batch_size=_base_.finetune_batch_size, dataset=dict(dataset=dict(_delete_=True, **_mix)))
# knobs: --cfg-options custom_hooks.0.cgan_cfg_options.train_cfg.max_iters=...
custom_hooks = [_base_.cgan_hook, dict(type='CRDMemorySizeHook')]

# the official student protocol (see ../_base_/cgankd/cifar100_biggan.py)
load_from = _base_.no_kd_student
optim_wrapper = dict(optimizer=dict(lr=_base_.finetune_lr))
auto_scale_lr = dict(base_batch_size=_base_.finetune_batch_size)
