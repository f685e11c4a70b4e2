# vgg8 on the 55,000 Fashion-MNIST training images (the last 5,000 of the
# official 60,000 are the validation split): the teacher of the demo and
# of the cGAN-KD experiment (demo/fashion_mnist).
#   python tools/train.py configs/fashion_mnist/vgg8_1xb128_fashion_mnist.py
# Three epochs of batch 128 (1,290 iterations) at the images' own 28 px:
# enough for a teacher clearly stronger than any student of the
# experiment (its error bounds what distillation can transfer), and about
# a quarter of an hour on 2 CPU cores. Why vgg8 (measured on 2 CPU
# cores): per image it learns faster than the cheaper resnet14 / resnet20
# and costs half the CPU time of resnet8x4.
_base_ = [
    '../_base_/models/vgg8_fashion_mnist.py',
    '../_base_/datasets/fashion_mnist_bs128.py',
    '../_base_/schedules/fashion_mnist_teacher_1290it.py',
    '../_base_/default_runtime.py',
]

model = _base_.vgg8_fashion_mnist

# Flips only: three epochs are too few for random crops to pay off.
train_pipeline = [
    dict(type='mmrazor.GrayToRGB'),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs'),
]
# With an iteration-based loop, DefaultSampler makes MMEngine sleep 2 s at
# every epoch rollover; InfiniteSampler never rolls over.
train_dataloader = dict(
    dataset=dict(pipeline=train_pipeline),
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True))

default_hooks = dict(
    logger=dict(interval=50),
    # only the final checkpoint: the demo needs no other
    checkpoint=dict(
        by_epoch=False, interval=_base_.max_iters, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
