# cGAN-KD for regression on real images, the paper's protocol: the converged
# student (resnet8_1xb128_rotated_fashion_mnist.py) fine-tuned on its 2,000
# rotated Fashion-MNIST training images plus 4,000 CcGAN samples that the vgg8
# teacher filtered and relabelled with its predicted angle, with the steps and
# schedule of resnet8_finetune_1xb128_rotated_fashion_mnist.py. The CcGAN
# learns from the teacher's 55,000 training images.
#   python tools/train.py \
#       configs/fashion_mnist/cgankd_vgg8_resnet8_1xb128_rotated_fashion_mnist.py \
#       --cfg-options \
#       model.teacher_ckpt=work_dirs/vgg8_1xb128_rotated_fashion_mnist/iter_1290.pth \
#       load_from=work_dirs/resnet8_1xb128_rotated_fashion_mnist/epoch_80.pth
_base_ = [
    './resnet8_finetune_1xb128_rotated_fashion_mnist.py',
    '../_base_/cgankd/rotated_fashion_mnist_ccgan.py',
    '../_base_/models/vgg8_rotated_fashion_mnist.py',
]

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='StrictTeacherDistill',
    architecture=_base_.resnet8_rotated_fashion_mnist,
    teacher=_base_.vgg8_rotated_fashion_mnist,
    # The vgg8_1xb128_rotated_fashion_mnist.py teacher: put its checkpoint here
    # (or pass --cfg-options model.teacher_ckpt=..., as demo/fashion_mnist
    # does).
    teacher_ckpt='checkpoints/vgg8_1xb128_rotated_fashion_mnist.pth',
    # no distillation loss: the teacher only serves the bank
    distiller=dict(type='ConfigurableDistiller', distill_losses=dict()))
find_unused_parameters = True

train_dataloader = dict(
    dataset=dict(_delete_=True, **_base_.cgankd_train_dataset))
# knobs: --cfg-options custom_hooks.0.cgan_cfg_options.train_cfg.max_iters=...
custom_hooks = [_base_.cgan_hook]
