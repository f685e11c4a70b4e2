# The ImageNet-100 BigGAN of cGAN-KD at 128x128: the CIFAR-100 recipe's
# BigGAN (width 64, DiffAugment, Adam 2e-4 (0, 0.999)) at 128 px with 2
# discriminator steps per generator step, its EMA from 20,000 generator
# steps (the paper's BigGAN-deep is not ours). Real images are flipped at
# random as the CIFAR-100 recipe's (the official --augment; it also crops
# the long edge at random, where this recipe resizes the whole image). A Runner iteration is one
# discriminator update: 100,000 generator steps are 200,000 iterations.
#   bash tools/dist_train.sh configs/cgan/biggan_1xb256_imagenet100.py 8
# or as the cGAN of configs/cgankd/*_imagenet100.py (CGANHook.cgan).
_base_ = ['./biggan_1xb512_cifar100.py']

discriminator_steps = 2
model = dict(
    img_size=128,
    discriminator_steps=discriminator_steps,
    ema_config=dict(start_iter=20000))

# the student's training images, loaded and resized to the cGAN's square
train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    dataset=dict(
        _delete_=True,
        type='ImageNet100',
        data_root='data/imagenet',
        split='train',
        pipeline=[
            dict(type='mmrazor.LoadImageUnlessGiven'),
            dict(type='mmpretrain.Resize', scale=(128, 128)),
            dict(type='mmpretrain.PackInputs'),
        ]))
train_cfg = dict(max_iters=100000 * discriminator_steps)
default_hooks = dict(
    checkpoint=dict(interval=2000 * discriminator_steps))
