# cGAN-KD alone on Steering Angle (the paper's regression recipe):
# ResNet-20 trained with plain MSE on real + processed CcGAN samples, which
# the VGG-19 teacher filtered (|teacher - angle| under the pooled 0.9
# quantile; the samples keep their generating angle, see
# steering_angle_ccgan.py). Paper: ResNet-20 MAE 5.51 -> 1.60 degrees.
#   python tools/train.py \
#       configs/cgankd/cgankd_vgg19_resnet20_1xb128_steering_angle.py
_base_ = [
    '../_base_/distill/vgg19_resnet20_steering_angle.py',
    '../_base_/cgankd/steering_angle_ccgan.py',
]

model = dict(
    # no distillation loss: the teacher only serves the bank (and is then
    # not run on training batches)
    distiller=dict(type='ConfigurableDistiller', distill_losses=dict()))
train_dataloader = dict(
    dataset=dict(_delete_=True, **_base_.cgankd_train_dataset))
# knobs: --cfg-options custom_hooks.0.cgan_cfg_options.train_cfg.max_iters=...
custom_hooks = [_base_.cgan_hook]

# The official student protocol (UBCDingXin/cGAN-KD, SteeringAngle/scripts/
# run_cnn_fake.sh --finetune): start from the converged no-KD ResNet-20
# (configs/teachers/resnet20_steering_angle.py writes it; load_from=None
# trains from scratch) and train with the no-KD schedule
# (configs/_base_/schedules/regression_sgd.py): 350 epochs over real + 50k
# fake images, SGD lr 0.01, x0.1 at epochs 150 and 250, weight decay 5e-4,
# batch 128.
load_from = 'work_dirs/resnet20_steering_angle/epoch_350.pth'
