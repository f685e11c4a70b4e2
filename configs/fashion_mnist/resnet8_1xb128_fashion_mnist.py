# resnet8 alone on the first 2,000 Fashion-MNIST training images, trained to
# convergence: the paper's baseline, and the checkpoint every fine-tune of
# the experiment starts from (demo/fashion_mnist).
#   python tools/train.py configs/fashion_mnist/resnet8_1xb128_fashion_mnist.py
# The fixed low-data subset (mmpretrain's `indices=2000`: the first 2,000
# images, 186 to 216 per class) is the regime where cGAN-KD adds generated
# images; the teacher and the cGAN learn from all 55,000.
_base_ = [
    '../_base_/models/resnet8_fashion_mnist.py',
    '../_base_/datasets/fashion_mnist_bs128.py',
    '../_base_/schedules/fashion_mnist_student_80e.py',
    '../_base_/default_runtime.py',
]

model = _base_.resnet8_fashion_mnist

# The base's CIFAR augmentation (pad 4, random crop, flip) at 28 px.
train_dataloader = dict(dataset=dict(indices=2000))
default_hooks = dict(
    logger=dict(interval=16),
    checkpoint=dict(by_epoch=True, interval=80, max_keep_ckpts=1))
