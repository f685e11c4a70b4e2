# Train resnet20 on UTKFace (ages 1-60) alone: the no-KD student
# baseline (paper: MAE 6.87 -> 4.92 with cGAN-KD), whose last checkpoint the
# cGAN-KD student is fine-tuned from.
#   python tools/train.py configs/teachers/resnet20_utkface.py
_base_ = [
    '../_base_/models/resnet20_utkface.py',
    '../_base_/datasets/utkface_bs128.py',
    '../_base_/schedules/regression_sgd.py',
    '../_base_/default_runtime.py',
]

model = _base_.resnet20_utkface
