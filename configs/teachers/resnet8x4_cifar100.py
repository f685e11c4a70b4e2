# Train resnet8x4 on CIFAR-100 alone (a teacher, or the no-KD student
# baseline that the paper's cGAN-KD students start from).
#   python tools/train.py configs/teachers/resnet8x4_cifar100.py
_base_ = [
    '../_base_/models/resnet8x4_cifar100.py',
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar100_sgd_240e.py',
    '../_base_/default_runtime.py',
]

model = _base_.resnet8x4_cifar100
