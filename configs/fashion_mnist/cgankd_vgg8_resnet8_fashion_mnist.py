# cGAN-KD alone, vgg8 -> resnet8, on the first 2,000 Fashion-MNIST training
# images: resnet8 trained with cross-entropy on the 2,000 real images plus
# cGAN samples that the vgg8 teacher filtered and relabelled. The cGAN is
# trained on the same 2,000 images. Stage 4 of the demo (tools/run_demo.py).
#   python tools/train.py \
#       configs/fashion_mnist/cgankd_vgg8_resnet8_fashion_mnist.py \
#       --cfg-options model.teacher_ckpt=PATH/TO/TEACHER.pth
# Same schedule and batch as the student alone (240 x 128): the same
# training cost, part of each batch now fake.
_base_ = [
    './kd_vgg8_resnet8_fashion_mnist.py',
    '../_base_/cgankd/fashion_mnist_dcgan.py',
]

model = dict(
    # no distillation loss: the teacher only serves the bank (and is then
    # not run on training batches)
    distiller=dict(
        _delete_=True, type='ConfigurableDistiller', distill_losses=dict()))
train_dataloader = dict(
    dataset=dict(_delete_=True, **_base_.cgankd_train_dataset))
# knobs: --cfg-options custom_hooks.0.gan_iters=... (CGANHook first)
custom_hooks = [_base_.cgan_hook]
