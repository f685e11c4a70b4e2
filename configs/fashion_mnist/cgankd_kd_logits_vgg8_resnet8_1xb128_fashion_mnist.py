# KD + cGAN-KD, vgg8 -> resnet8: the KD fine-tune
# (kd_logits_vgg8_resnet8_1xb128_fashion_mnist.py) on the 2,000 real images
# plus cGAN samples, in the steps and shares of the cGAN-KD fine-tune
# (cgankd_vgg8_resnet8_1xb128_fashion_mnist.py). As in the official cGAN-KD +
# KD runs, this bank is filtered at q 0.8 and not relabelled: the KD term
# carries the teacher's view.
# The demo passes the cGAN its cGAN-KD stage trained, so both students see
# samples of the same generator:
#   python tools/train.py \
#       configs/fashion_mnist/cgankd_kd_logits_vgg8_resnet8_1xb128_fashion_mnist.py \
#       --cfg-options \
#       model.teacher_ckpt=work_dirs/vgg8_1xb128_fashion_mnist/iter_1290.pth \
#       load_from=work_dirs/resnet8_1xb128_fashion_mnist/epoch_80.pth \
#       custom_hooks.0.generator_ckpt=work_dirs/dcgan_1xb64_fashion_mnist/iter_16000.pth
_base_ = [
    './kd_logits_vgg8_resnet8_1xb128_fashion_mnist.py',
    '../_base_/cgankd/fashion_mnist_dcgan.py',
]

train_dataloader = dict(
    dataset=dict(_delete_=True, **_base_.cgankd_train_dataset),
    sampler=_base_.cgankd_train_sampler)
custom_hooks = [_base_.cgan_hook]
custom_hooks[0].update(
    filter=dict(quantile=0.8, burn_in=200), relabel='none')
