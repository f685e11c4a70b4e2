# The "more steps" control: the converged student
# (resnet8_1xb128_fashion_mnist.py) fine-tuned on its 2,000 real images alone
# with exactly the steps, lr and schedule of the cGAN-KD fine-tune
# (cgankd_vgg8_resnet8_1xb128_fashion_mnist.py): the real set repeated three
# times is as long as 2,000 real + 4,000 fake.
#   python tools/train.py \
#       configs/fashion_mnist/resnet8_finetune_1xb128_fashion_mnist.py \
#       --cfg-options load_from=PATH/TO/STUDENT.pth
_base_ = ['./resnet8_1xb128_fashion_mnist.py']

# cGAN-KD's student protocol (UBCDingXin/cGAN-KD, the CIFAR-100 scripts):
# start from the converged no-KD student (`load_from`), fine-tune for a
# fixed number of epochs over real + fake data at lr 0.01 (a fifth of the
# from-scratch 0.05), x0.1 at 150/180/210 of 240 epochs, batch 128, weight
# decay 5e-4. Here 16 epochs, decays at 10/12/14 (the same fractions). With
# 4,000 fake samples beside the 2,000 real ones an epoch is three times the
# real set, so the real-only controls repeat it three times: every
# fine-tune of the experiment takes the same steps under the same schedule.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[10, 12, 14], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=16, val_interval=16)
val_cfg = dict()
test_cfg = dict()

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=3,
        dataset=_base_.train_dataloader.dataset))
# the converged student (demo/fashion_mnist passes it)
load_from = None
default_hooks = dict(checkpoint=dict(interval=16))
