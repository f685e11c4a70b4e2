# Train VGG-19 (BN) on ImageNet-100 at 128x128 (the paper's teacher).
#   python tools/train.py configs/teachers/vgg19_imagenet100.py
# The schedule is the CRD literature's CIFAR one (_base_/schedules); the
# paper's own ImageNet-100 schedule may differ.
_base_ = [
    '../_base_/models/vgg19_imagenet100.py',
    '../_base_/datasets/imagenet100_bs128.py',
    '../_base_/schedules/cifar100_sgd_240e.py',
    '../_base_/default_runtime.py',
]

model = _base_.vgg19_imagenet100
