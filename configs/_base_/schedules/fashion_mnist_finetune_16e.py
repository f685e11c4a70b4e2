# The schedule of every fine-tune of the Fashion-MNIST experiment (the
# students of cGAN-KD, KD + cGAN-KD, KD and the real-only controls), after
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
