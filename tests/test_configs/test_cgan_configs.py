# Copyright (c) cgankd_plugin contributors.
"""Each ``configs/cgan/*.py`` trains the cGAN its cGAN-KD base describes.

The model is the hook's ``gan``; a Runner iteration is one discriminator
update, so the length and the checkpoint interval are the hook's times
its discriminator steps; a CcGAN's loader draws vicinal batches with the
model's own vicinity settings.
"""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'cgan', '*.py')))
BASES = {
    'dcgan_1xb64_fashion_mnist': 'fashion_mnist_dcgan',
    'biggan_1xb512_cifar100': 'cifar100_biggan',
    'biggan_1xb256_imagenet100': 'imagenet100_biggan',
    'ccgan_1xb64_rotated_fashion_mnist': 'rotated_fashion_mnist_ccgan',
    'ccgan_1xb512_utkface': 'utkface_ccgan',
    'ccgan_1xb512_steering_angle': 'steering_angle_ccgan',
}


def test_every_cgan_config_is_checked():
    assert sorted(osp.basename(p)[:-3] for p in CONFIGS) == sorted(BASES)


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_the_config_trains_its_bases_cgan(path):
    cfg = Config.fromfile(path)
    base = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'cgankd',
                 BASES[osp.basename(path)[:-3]] + '.py'))
    hook = base.cgan_hook
    steps = hook.gan.get('discriminator_steps', 1)
    model = dict(cfg.model)
    assert model.pop('data_preprocessor') == dict(
        type='ConditionalGANDataPreprocessor')
    assert model == hook.gan
    assert cfg.train_cfg.max_iters == hook.gan_iters * steps
    assert cfg.default_hooks.checkpoint.interval == \
        hook.gan_checkpoint_interval * steps
    assert cfg.train_dataloader.batch_size == hook.gan_batch_size
    for name in ('generator', 'discriminator'):
        assert cfg.optim_wrapper[name].optimizer == \
            hook.gan_optimizers[name]
    loader = cfg.train_dataloader
    if hook.gan.type == 'ContinuousConditionalGAN':
        assert loader.dataset.type == 'VicinalDataset'
        drawn = loader.batch_sampler
        assert drawn.type == 'VicinalBatchSampler'
        for name in ('vicinity', 'kappa', 'sigma'):
            assert drawn[name] == hook.gan[name], name
        assert drawn.seed == hook.seed
    else:
        assert 'batch_sampler' not in loader
        assert loader.sampler.type == 'InfiniteSampler'
