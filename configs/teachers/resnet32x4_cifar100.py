# Train resnet32x4 on CIFAR-100 alone (a teacher, or the no-KD student
# baseline that the paper's cGAN-KD students start from).
#   python tools/train.py configs/teachers/resnet32x4_cifar100.py
_base_ = [
    '../_base_/models/resnet32x4_cifar100.py',
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar100_sgd_240e.py',
    '../_base_/default_runtime.py',
]

model = _base_.resnet32x4_cifar100
