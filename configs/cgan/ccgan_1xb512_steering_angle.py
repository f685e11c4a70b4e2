# The Steering Angle CcGAN of cGAN-KD: UTKFace's set-up with what the
# official code changes for this data (SteeringAngle/scripts/
# run_gene_data.sh): kappa = 5 x the largest label gap (--gan_kappa -5),
# 2 D steps per G step (20,000 generator steps are 40,000 iterations).
#   python tools/train.py configs/cgan/ccgan_1xb512_steering_angle.py
# or as the cGAN of configs/cgankd/*_steering_angle.py (CGANHook.cgan).
_base_ = ['./ccgan_1xb512_utkface.py']

discriminator_steps = 2
model = dict(discriminator_steps=discriminator_steps, kappa=-5)
train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            _delete_=True,
            type='SteeringAngle',
            data_root='data/steering_angle',
            ann_file='SteeringAngle_64x64_prop_0.8.h5',
            split='train',
            pipeline=[dict(type='mmpretrain.PackInputs')])),
    batch_sampler=dict(kappa=-5))
train_cfg = dict(max_iters=20000 * discriminator_steps)
default_hooks = dict(
    checkpoint=dict(interval=1000 * discriminator_steps))
