# The upper bound of cGAN-KD for the regression task: the cGAN-KD fine-tune
# (cgankd_vgg8_resnet8_1xb128_rotated_fashion_mnist.py) with a perfect
# generator, a bank of 4,000 real rotated images the student does not see
# (drawn among the 20 nearest in angle to each grid label, from the teacher's
# set past the student's first 2,000), filtered and relabelled by the teacher
# exactly as generated ones.
#   python tools/train.py \
#       configs/fashion_mnist/cgankd_realbank_vgg8_resnet8_1xb128_rotated_fashion_mnist.py \
#       --cfg-options \
#       model.teacher_ckpt=work_dirs/vgg8_1xb128_rotated_fashion_mnist/iter_1290.pth \
#       load_from=work_dirs/resnet8_1xb128_rotated_fashion_mnist/epoch_80.pth
_base_ = ['./cgankd_vgg8_resnet8_1xb128_rotated_fashion_mnist.py']

custom_hooks = [_base_.cgan_hook]
# real images in the cGAN's place: nothing to train (assigned, not updated:
# ConfigDict.update would merge the cGAN recipe's keys in)
custom_hooks[0]['cgan'] = dict(model=dict(
    type='RealImagePool',
    dataset=_base_.teacher_train_dataset,
    exclude_first=2000,
    img_size=28,
    img_channels=1,
    num_classes=None,
    neighbours=20))
custom_hooks[0]['quality_samples'] = 0
