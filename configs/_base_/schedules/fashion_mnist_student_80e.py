# The Fashion-MNIST students' no-KD schedule: cGAN-KD's official CIFAR
# schedule (SGD lr 0.05, momentum 0.9, weight decay 5e-4, batch 128, lr x0.1
# at 150/180/210 of 240 epochs) scaled to 80 epochs over the students'
# 2,000 real images, where the validation top-1 has stopped rising (see
# docs/results.md): the converged student the paper fine-tunes from.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[50, 60, 70], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=80, val_interval=80)
val_cfg = dict()
test_cfg = dict()
