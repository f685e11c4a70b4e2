# The upper bound of cGAN-KD: the cGAN-KD fine-tune
# (cgankd_vgg8_resnet8_1xb128_fashion_mnist.py) with a perfect generator, i.e.
# a bank of 4,000 real training images the student does not see (drawn from the
# teacher's set past the student's first 2,000), filtered and relabelled by the
# teacher exactly as generated ones. The gap between this and cGAN-KD is what
# the cGAN's quality leaves behind.
#   python tools/train.py \
#       configs/fashion_mnist/cgankd_realbank_vgg8_resnet8_1xb128_fashion_mnist.py \
#       --cfg-options \
#       model.teacher_ckpt=work_dirs/vgg8_1xb128_fashion_mnist/iter_1290.pth \
#       load_from=work_dirs/resnet8_1xb128_fashion_mnist/epoch_80.pth
_base_ = ['./cgankd_vgg8_resnet8_1xb128_fashion_mnist.py']

custom_hooks = [_base_.cgan_hook]
# real images in the cGAN's place: nothing to train (assigned, not updated:
# ConfigDict.update would merge the cGAN recipe's keys in)
custom_hooks[0]['cgan'] = dict(model=dict(
    type='RealImagePool',
    dataset=_base_.teacher_train_dataset,
    exclude_first=2000,
    img_size=28,
    img_channels=1,
    num_classes=10))
custom_hooks[0]['quality_samples'] = 0
# no cDR-RS: the density ratio of real images to real images is one
custom_hooks[0]['subsample'] = None
