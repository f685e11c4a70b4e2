# The entry users name: CRD resnet32x4 -> resnet8x4 + cGAN-KD on CIFAR-100.
#   python tools/train.py configs/cgankd/crd_resnet_cifar100.py \
#       --cfg-options model.teacher_ckpt=path/to/resnet32x4.pth
_base_ = ['./cgankd_crd_neck_resnet32x4_resnet8x4_1xb128_cifar100.py']
