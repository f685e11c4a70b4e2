# Train vgg19 on Steering Angle alone: the filtering/relabelling
# net and KD teacher of the official Steering Angle cGAN-KD run (scripts/
# run_gene_data.sh: FILTER_NET="vgg19").
#   python tools/train.py configs/teachers/vgg19_steering_angle.py
_base_ = [
    '../_base_/datasets/steering_angle_bs128.py',
    '../_base_/schedules/regression_sgd.py',
    '../_base_/default_runtime.py',
]

model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    # the zoo lives in the plugin's (mmrazor's) registry: scope prefix
    backbone=dict(type='mmrazor.VGGCIFAR', arch='vgg19'),
    neck=dict(type='GlobalAveragePooling'),
    # The official regression CNNs end in Linear-BN-ReLU-Linear-BN-ReLU-
    # Linear(1)-ReLU and are trained with MSE on labels normalised to
    # [0, 1] ((angle + 88.13) / 186.05). The official VGG flattens its
    # 2x2x512 map into the first Linear; here the map is pooled (512).
    head=dict(
        type='mmrazor.RegressionHead',
        in_channels=512,
        label_range=(-88.13, 97.92),
        hidden_channels=(512, 512),
        output_activation='relu',
        loss_type='l2'),
)
