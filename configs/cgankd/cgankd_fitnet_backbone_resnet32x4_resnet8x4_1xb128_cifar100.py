# FITNET resnet32x4 -> resnet8x4 on CIFAR-100 + cGAN-KD: the stock
# configs/distill/ twin, trained on real + processed cGAN samples, with the
# official weights (run_distill_fake.sh -a 1 -b 100): CE + KL (T 4) + 100
# hint MSE.
#   python tools/train.py \
#       configs/cgankd/cgankd_fitnet_backbone_resnet32x4_resnet8x4_1xb128_cifar100.py
_base_ = [
    '../distill/fitnet_backbone_resnet32x4_resnet8x4_1xb64_cifar100.py',
    '../_base_/cgankd/cifar100_biggan.py',
]

train_dataloader = dict(
    batch_size=128,
    dataset=dict(_delete_=True, **_base_.cgankd_train_dataset))
# knobs: --cfg-options custom_hooks.0.cgan_cfg_options.train_cfg.max_iters=...
custom_hooks = [_base_.cgan_hook]

# The official student protocol (UBCDingXin/cGAN-KD, CIFAR-100/RepDistiller/
# scripts/distill/run_distill_fake.sh, train_student.py --finetune): start
# from the converged no-KD resnet8x4 (configs/teachers/resnet8x4_cifar100.py
# writes it; load_from=None trains from scratch) and train 240 epochs over
# the 50k real + 100k fake images, SGD lr 0.01, batch 128, x0.1 at
# 150/180/210, weight decay 5e-4; the bank of cifar100_biggan.py (q 0.8,
# not relabelled).
load_from = 'work_dirs/resnet8x4_cifar100/epoch_240.pth'
optim_wrapper = dict(optimizer=dict(lr=0.01))
auto_scale_lr = dict(base_batch_size=128)
