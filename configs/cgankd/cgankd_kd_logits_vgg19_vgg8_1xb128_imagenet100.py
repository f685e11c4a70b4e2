# KD VGG-19 -> VGG-8 on ImageNet-100 (128x128) + cGAN-KD.
#   python tools/train.py \
#       configs/cgankd/cgankd_kd_logits_vgg19_vgg8_1xb128_imagenet100.py
_base_ = [
    '../distill/kd_logits_vgg19_vgg8_1xb128_imagenet100.py',
    '../_base_/cgankd/imagenet100_biggan.py',
]

train_dataloader = dict(
    dataset=dict(_delete_=True, **_base_.cgankd_train_dataset))
custom_hooks = [_base_.cgan_hook]
