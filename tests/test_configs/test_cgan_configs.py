# Copyright (c) cgankd_plugin contributors.
"""The cGAN recipes of ``configs/cgan/`` and the cGAN-KD bases naming them.

A recipe lives in one file: each ``configs/_base_/cgankd/*`` base names
its recipe (``CGANHook.cgan``), and nothing else repeats it.
"""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

import cgankd_plugin  # noqa: F401
from cgankd_plugin.engine.cgan_training import build_cgan, load_cgan_recipe

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'cgan', '*.py')))
BASES = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', '_base_', 'cgankd', '*.py')))
GAN_KEYS = ('gan', 'gan_iters', 'gan_batch_size', 'gan_optimizers',
            'gan_checkpoint_interval', 'gan_trainer', 'gan_dataset')


@pytest.mark.parametrize('path', BASES, ids=osp.basename)
def test_each_cgankd_base_names_a_recipe_and_repeats_none(path):
    hook = Config.fromfile(path).cgan_hook
    assert osp.isfile(osp.join(REPO_ROOT, hook.cgan)), hook.cgan
    assert hook.cgan.startswith('configs/cgan/')
    assert not set(GAN_KEYS) & set(hook), sorted(hook)


def test_every_recipe_serves_a_cgankd_base():
    named = {Config.fromfile(p).cgan_hook.cgan for p in BASES}
    assert {osp.relpath(p, REPO_ROOT) for p in CONFIGS} == named


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_the_recipe_builds_and_draws_with_its_models_vicinity(path):
    recipe = load_cgan_recipe(path)
    gan = build_cgan(recipe)
    assert recipe.train_cfg.max_iters % gan.discriminator_steps == 0
    assert recipe.default_hooks.checkpoint.interval % \
        gan.discriminator_steps == 0
    loader = recipe.train_dataloader
    if gan.is_continuous:
        assert loader.dataset.type == 'VicinalDataset'
        drawn = loader.batch_sampler
        assert drawn.type == 'VicinalBatchSampler'
        for name in ('vicinity', 'kappa', 'sigma'):
            assert drawn[name] == recipe.model[name], name
    else:
        assert 'batch_sampler' not in loader
        assert loader.sampler.type == 'InfiniteSampler'


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_the_recipe_runs_cudnn_in_benchmark_mode(path):
    assert Config.fromfile(path).env_cfg.cudnn_benchmark is True
