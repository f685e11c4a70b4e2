# Train resnet20 on Steering Angle alone: the no-KD student
# baseline (paper: MAE 5.51 -> 1.60 with cGAN-KD), whose last checkpoint the
# cGAN-KD student is fine-tuned from.
#   python tools/train.py configs/teachers/resnet20_steering_angle.py
_base_ = [
    '../_base_/models/resnet20_steering_angle.py',
    '../_base_/datasets/steering_angle_bs128.py',
    '../_base_/schedules/regression_sgd.py',
    '../_base_/default_runtime.py',
]

model = _base_.resnet20_steering_angle
