# vgg8 regressing the rotation angle of Fashion-MNIST images (55,000
# training images): the teacher of the experiment's regression task
# (demo/fashion_mnist), whose filter and relabelling it serves.
#   python tools/train.py \
#       configs/fashion_mnist/vgg8_1xb128_rotated_fashion_mnist.py
# Sized like vgg8_1xb128_fashion_mnist.py: three epochs of batch 128 (1,290
# iterations) at 28 px, about a quarter of an hour on 2 CPU cores.
_base_ = [
    '../_base_/models/vgg8_rotated_fashion_mnist.py',
    '../_base_/datasets/rotated_fashion_mnist_bs128.py',
    '../_base_/schedules/fashion_mnist_teacher_1290it.py',
    '../_base_/default_runtime.py',
]

model = _base_.vgg8_rotated_fashion_mnist

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(
        by_epoch=False, interval=_base_.max_iters, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
