# Train VGG-8 (BN) on ImageNet-100 at 128x128 alone: the no-KD student the
# cGAN-KD fine-tune of
# configs/cgankd/cgankd_kd_logits_vgg19_vgg8_1xb256_imagenet100.py starts
# from (official: ImageNet-100/RepDistiller/train_teacher.py defaults, 240
# epochs, SGD lr 0.05, batch 128, x0.1 at 150/180/210).
#   python tools/train.py configs/teachers/vgg8_imagenet100.py
_base_ = [
    '../_base_/models/vgg8_imagenet100.py',
    '../_base_/datasets/imagenet100_bs128.py',
    '../_base_/schedules/cifar100_sgd_240e.py',
    '../_base_/default_runtime.py',
]

model = _base_.vgg8_imagenet100
auto_scale_lr = dict(base_batch_size=128)
