# The no-KD schedule of cGAN-KD's regression CNNs (UBCDingXin/cGAN-KD,
# UTKFace/scripts/run_cnn.sh and SteeringAngle/scripts/run_cnn.sh, with
# train_cnn.py): 350 epochs, SGD lr 0.01, momentum 0.9, weight decay 5e-4,
# lr x0.1 at epochs 150 and 250, batch 128, MSE on labels in [0, 1].
# (The cGAN-KD fine-tuning runs change epochs/milestones: see the configs in
# configs/cgankd/.)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[150, 250], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=350, val_interval=10)
val_cfg = dict()
test_cfg = dict()
# batch 128 on one GPU, as the official scripts
auto_scale_lr = dict(base_batch_size=128)
