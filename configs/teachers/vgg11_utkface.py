# Train vgg11 on UTKFace (ages 1-60) alone: the filtering/relabelling
# net and KD teacher of the official UTKFace cGAN-KD run (scripts/
# run_gene_data.sh: FILTER_NET="vgg11").
#   python tools/train.py configs/teachers/vgg11_utkface.py
_base_ = [
    '../_base_/models/vgg11_utkface.py',
    '../_base_/datasets/utkface_bs128.py',
    '../_base_/schedules/regression_sgd.py',
    '../_base_/default_runtime.py',
]

model = _base_.vgg11_utkface
