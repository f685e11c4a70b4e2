# cGAN-KD alone on UTKFace (the paper's regression recipe): ResNet-20
# trained with plain MSE on real + processed CcGAN samples, which the VGG-11
# teacher filtered (|teacher - age| under the pooled 0.7 quantile) and
# relabelled with its predicted age. Paper: ResNet-20 MAE 6.87 -> 4.92 years.
#   python tools/train.py \
#       configs/cgankd/cgankd_vgg11_resnet20_1xb128_utkface.py
_base_ = [
    '../_base_/distill/vgg11_resnet20_utkface.py',
    '../_base_/cgankd/utkface_ccgan.py',
]

model = dict(
    # no distillation loss: the teacher only serves the bank (and is then
    # not run on training batches)
    distiller=dict(type='ConfigurableDistiller', distill_losses=dict()))
train_dataloader = dict(
    dataset=dict(_delete_=True, **_base_.cgankd_train_dataset))
# knobs: --cfg-options custom_hooks.0.cgan_cfg_options.train_cfg.max_iters=...
custom_hooks = [_base_.cgan_hook]

# The official student protocol (UBCDingXin/cGAN-KD, UTKFace/scripts/
# run_cnn_fake.sh --finetune): start from the converged no-KD ResNet-20
# (configs/teachers/resnet20_utkface.py writes it; load_from=None trains
# from scratch) and train 240 epochs over real + 60k fake images, SGD lr
# 0.01, batch 128, x0.1 at epochs 150, 180, 210, weight decay 5e-4; the
# bank of utkface_ccgan.py (q 0.7, relabelled: --filter --adjust).
load_from = 'work_dirs/resnet20_utkface/epoch_350.pth'
param_scheduler = dict(milestones=[150, 180, 210])
train_cfg = dict(max_epochs=240)
