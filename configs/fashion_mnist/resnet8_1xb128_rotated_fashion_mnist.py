# resnet8 regressing the rotation angle from the first 2,000 rotated
# Fashion-MNIST training images alone, trained to convergence: the
# regression task's baseline and the checkpoint its fine-tunes start from
# (demo/fashion_mnist).
#   python tools/train.py \
#       configs/fashion_mnist/resnet8_1xb128_rotated_fashion_mnist.py
# The classification students' schedule (80 epochs, SGD lr 0.05, x0.1 at
# 50/60/70, batch 128; see resnet8_1xb128_fashion_mnist.py). No flips or crops:
# either would change the angle.
_base_ = [
    '../_base_/models/resnet8_rotated_fashion_mnist.py',
    '../_base_/datasets/rotated_fashion_mnist_bs128.py',
    '../_base_/schedules/fashion_mnist_student_80e.py',
    '../_base_/default_runtime.py',
]

model = _base_.resnet8_rotated_fashion_mnist

# epoch-based: DefaultSampler
train_dataloader = dict(
    dataset=dict(indices=2000),
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))
default_hooks = dict(
    logger=dict(interval=16),
    checkpoint=dict(by_epoch=True, interval=80, max_keep_ckpts=1))
