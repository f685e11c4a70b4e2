# Train vgg19 on Steering Angle alone: the filtering/relabelling
# net and KD teacher of the official Steering Angle cGAN-KD run (scripts/
# run_gene_data.sh: FILTER_NET="vgg19").
#   python tools/train.py configs/teachers/vgg19_steering_angle.py
_base_ = [
    '../_base_/models/vgg19_steering_angle.py',
    '../_base_/datasets/steering_angle_bs128.py',
    '../_base_/schedules/regression_sgd.py',
    '../_base_/default_runtime.py',
]

model = _base_.vgg19_steering_angle
