# The "more steps" control of the regression task: the converged student
# (resnet8_1xb128_rotated_fashion_mnist.py) fine-tuned on its 2,000 real images
# alone with exactly the steps, lr and schedule of the cGAN-KD fine-tune
# (cgankd_vgg8_resnet8_1xb128_rotated_fashion_mnist.py).
#   python tools/train.py \
#       configs/fashion_mnist/resnet8_finetune_1xb128_rotated_fashion_mnist.py \
#       --cfg-options \
#       load_from=work_dirs/resnet8_1xb128_rotated_fashion_mnist/epoch_80.pth
_base_ = [
    '../_base_/models/resnet8_rotated_fashion_mnist.py',
    '../_base_/datasets/rotated_fashion_mnist_bs128.py',
    '../_base_/schedules/fashion_mnist_finetune_16e.py',
    '../_base_/default_runtime.py',
]

model = _base_.resnet8_rotated_fashion_mnist
# the student's 2,000 real images, three times an epoch
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=3,
        dataset=dict(_base_.train_dataloader.dataset, indices=2000)),
    # epoch-based: DefaultSampler
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))
# the converged student (demo/fashion_mnist passes it)
load_from = None
default_hooks = dict(
    logger=dict(interval=16),
    checkpoint=dict(by_epoch=True, interval=16, max_keep_ckpts=1))
