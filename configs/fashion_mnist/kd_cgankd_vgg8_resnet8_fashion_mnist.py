# KD + cGAN-KD, vgg8 -> resnet8, on the first 2,000 Fashion-MNIST training
# images: the KD student (kd_vgg8_resnet8_fashion_mnist.py) trained on the
# real images plus the filtered, relabelled cGAN samples. Stage 5 of the
# demo, which passes the cGAN and bank of stage 4 so both students see the
# same synthetic data:
#   python tools/train.py \
#       configs/fashion_mnist/kd_cgankd_vgg8_resnet8_fashion_mnist.py \
#       --cfg-options model.teacher_ckpt=PATH/TO/TEACHER.pth \
#       custom_hooks.0.generator_ckpt=PATH/TO/cgan/cgan_final.pth
_base_ = [
    './kd_vgg8_resnet8_fashion_mnist.py',
    '../_base_/cgankd/fashion_mnist_dcgan.py',
]

train_dataloader = dict(
    dataset=dict(_delete_=True, **_base_.cgankd_train_dataset))
custom_hooks = [_base_.cgan_hook]
