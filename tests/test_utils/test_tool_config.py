# Copyright (c) cgankd_plugin contributors.
"""The command line the tools share: arguments and the merged config."""
import argparse
import importlib.util
import os
import os.path as osp
import sys

import pytest

from cgankd_plugin.utils.tool_config import (add_config_arguments,
                                             load_config,
                                             parse_config_arguments)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'configs', 'fashion_mnist',
                  'resnet8_1xb128_fashion_mnist.py')
GAN = osp.join(REPO_ROOT, 'configs', 'cgan', 'dcgan_1xb64_fashion_mnist.py')
CGANKD = osp.join(REPO_ROOT, 'configs', 'fashion_mnist',
                  'cgankd_vgg8_resnet8_1xb128_fashion_mnist.py')
CGANKD_CIFAR = osp.join(
    REPO_ROOT, 'configs', 'cgankd',
    'cgankd_kd_logits_resnet32x4_resnet8x4_1xb128_cifar100.py')


def parse(*argv):
    return parse_config_arguments(
        add_config_arguments(argparse.ArgumentParser()), list(argv))


def test_options_override_the_file_and_the_work_dir_follows_the_name(
        monkeypatch):
    # (recorded first, so the variable set below is undone afterwards)
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.delenv('LOCAL_RANK')
    args = parse(CONFIG, '--cfg-options', 'train_cfg.max_epochs=3',
                 'train_dataloader.batch_size=7', '--local-rank', '1')
    cfg = load_config(args)
    assert cfg.train_cfg.max_epochs == 3
    assert cfg.train_dataloader.batch_size == 7
    assert cfg.launcher == 'none'
    assert cfg.work_dir == osp.join('./work_dirs',
                                    'resnet8_1xb128_fashion_mnist')
    assert os.environ['LOCAL_RANK'] == '1'
    cfg = load_config(parse(CONFIG, '--work-dir', '/tmp/x'))
    assert cfg.work_dir == '/tmp/x'


def test_an_unknown_launcher_is_refused():
    with pytest.raises(SystemExit):
        parse(CONFIG, '--launcher', 'ssh')


def _train_tool():
    """``tools/train.py`` as a module (``parse_args``, ``build_config``)."""
    spec = importlib.util.spec_from_file_location(
        'train_tool', osp.join(REPO_ROOT, 'tools', 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _train_config(monkeypatch, *argv):
    """The config ``tools/train.py ARGV`` trains (an accelerator faked)."""
    import torch
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(sys, 'argv', ['train.py', *argv])
    tool = _train_tool()
    return tool.build_config(tool.parse_args())


def _assert_cgan_amp(optim_wrapper):
    for name in ('generator', 'discriminator'):
        wrapper = optim_wrapper[name]
        assert wrapper.type == 'AmpOptimWrapper'
        assert wrapper.dtype == 'bfloat16'
        assert wrapper.loss_scale == dict(enabled=False)
        assert wrapper.optimizer.type == 'Adam'  # the recipe's, kept
    assert optim_wrapper.constructor == 'SeparateOptimWrapperConstructor'


def test_amp_makes_a_cgan_recipe_bfloat16(monkeypatch):
    cfg = _train_config(monkeypatch, GAN, '--amp')
    _assert_cgan_amp(cfg.optim_wrapper)
    cfg = _train_config(monkeypatch, CONFIG, '--amp')  # one optimiser
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'


@pytest.mark.parametrize('config', [CGANKD, CGANKD_CIFAR], ids=osp.basename)
def test_amp_reaches_the_cgan_a_cgankd_config_trains(monkeypatch, config):
    from cgankd_plugin.engine.cgan_training import load_cgan_recipe
    options = 'custom_hooks.0.cgan_cfg_options.train_cfg.max_iters=8'
    cfg = _train_config(monkeypatch, config, '--amp', '--cfg-options',
                        options)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'  # the student's
    hook = cfg.custom_hooks[0]
    assert hook.type == 'CGANHook'
    recipe = load_cgan_recipe(hook.cgan, hook.cgan_cfg_options)
    _assert_cgan_amp(recipe.optim_wrapper)
    assert recipe.train_cfg.max_iters == 8  # the other option too
    plain = _train_config(monkeypatch, config)
    recipe = load_cgan_recipe(plain.custom_hooks[0].cgan,
                              plain.custom_hooks[0].cgan_cfg_options)
    assert recipe.optim_wrapper.generator.type == 'OptimWrapper'


def test_amp_without_an_accelerator_says_so(monkeypatch):
    import torch

    from cgankd_plugin.utils.tool_config import enable_amp
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(SystemExit, match='--amp.*GPU'):
        enable_amp(load_config(parse(CONFIG)))


def test_dataloaders_pin_memory_only_where_a_gpu_is(monkeypatch):
    import torch
    options = ('--cfg-options', 'val_dataloader.pin_memory=False')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = load_config(parse(CONFIG, *options))
    assert 'pin_memory' not in cfg.train_dataloader
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = load_config(parse(CONFIG, *options))
    assert cfg.train_dataloader.pin_memory is True
    assert cfg.test_dataloader.pin_memory is True
    # a config's own choice stands
    assert cfg.val_dataloader.pin_memory is False
