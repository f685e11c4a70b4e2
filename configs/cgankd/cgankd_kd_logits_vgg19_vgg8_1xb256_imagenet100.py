# KD VGG-19 -> VGG-8 on ImageNet-100 (128x128) + cGAN-KD.
#   python tools/train.py \
#       configs/cgankd/cgankd_kd_logits_vgg19_vgg8_1xb256_imagenet100.py
_base_ = [
    '../distill/kd_logits_vgg19_vgg8_1xb128_imagenet100.py',
    '../_base_/cgankd/imagenet100_biggan.py',
]

train_dataloader = dict(
    batch_size=256,
    dataset=dict(_delete_=True, **_base_.cgankd_train_dataset))
custom_hooks = [_base_.cgan_hook]

# The official student protocol (UBCDingXin/cGAN-KD, ImageNet-100/
# RepDistiller/scripts/distill/run_distill_fake.sh, train_student.py
# --finetune): start from the converged no-KD VGG-8
# (configs/teachers/vgg8_imagenet100.py writes it; load_from=None trains
# from scratch) and train 240 epochs over the real + 100k fake images, SGD
# lr 0.01, batch 256, x0.1 at 150/180/210, weight decay 5e-4; KD weights
# -r 0.1 -a 0.9 (the twin's 0.1 CE + 0.9 KL, T 4); the q 0.9 bank, not
# relabelled (imagenet100_biggan.py).
load_from = 'work_dirs/vgg8_imagenet100/epoch_240.pth'
optim_wrapper = dict(optimizer=dict(lr=0.01))
auto_scale_lr = dict(base_batch_size=256)
