# The UTKFace CcGAN of cGAN-KD at 64x64 (UBCDingXin/cGAN-KD,
# UTKFace/scripts/run_gene_data.sh and opts.py): SVDL ('soft') with the
# rule-of-thumb sigma (--gan_kernel_sigma -1: 1.06 std(y) n^(-1/5)) and
# kappa = 2 x the largest gap between sorted distinct labels (--gan_kappa
# -2), hinge loss, noise 256, G/D width 64, label embedding 128, 4 D steps
# per G step, DiffAugment, 20k generator steps of batch 512, Adam 1e-4
# (0.5, 0.999). The official nets are SAGAN's; ours are the SNGAN-style
# CcGAN networks (no self-attention), the label MLP trained jointly. A
# Runner iteration is one discriminator update: 80,000 iterations.
#   python tools/train.py configs/cgan/ccgan_1xb512_utkface.py
# or as the cGAN of configs/cgankd/*_utkface.py (CGANHook.cgan).
_base_ = ['../_base_/cgan_runtime.py']

discriminator_steps = 4
model = dict(
    type='ContinuousConditionalGAN',
    img_size=64,
    noise_dim=256,
    generator=dict(
        type='CcGANGenerator', base_channels=64, label_embed_dim=128),
    discriminator=dict(
        type='CcGANDiscriminator', base_channels=64, label_embed_dim=128),
    discriminator_steps=discriminator_steps,
    vicinity='soft',
    kappa=-2,
    sigma=None,
    diff_augment='color,translation,cutout',
    data_preprocessor=dict(type='ConditionalGANDataPreprocessor'))

train_dataloader = dict(
    batch_size=512,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type='VicinalDataset',
        dataset=dict(
            type='UTKFace',
            data_root='data/utkface',
            ann_file='UTKFace_64x64_prop_0.8.h5',
            split='train',
            pipeline=[dict(type='mmpretrain.PackInputs')])),
    # the sampler only holds the dataset: the batches are drawn
    sampler=dict(type='DefaultSampler', shuffle=False),
    batch_sampler=dict(
        type='VicinalBatchSampler',
        vicinity=model['vicinity'],
        kappa=model['kappa'],
        sigma=model['sigma'],
        seed=0),
    collate_fn=dict(type='default_collate'))
optim_wrapper = dict(
    generator=dict(
        optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
train_cfg = dict(by_epoch=False, max_iters=20000 * discriminator_steps)
default_hooks = dict(
    checkpoint=dict(interval=1000 * discriminator_steps))
