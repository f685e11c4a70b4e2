# Copyright (c) cgankd_plugin contributors.
"""The command line the tools share: arguments and the merged config."""
import argparse
import os
import os.path as osp

import pytest

from cgankd_plugin.utils.tool_config import (add_config_arguments,
                                             load_config,
                                             parse_config_arguments)

CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'configs', 'fashion_mnist', 'resnet8_1xb128_fashion_mnist.py')


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


def test_amp_wraps_every_optimiser_of_a_gan_config(monkeypatch):
    import torch

    from cgankd_plugin.utils.tool_config import enable_amp
    gan = osp.join(osp.dirname(CONFIG), '..', 'cgan',
                   'dcgan_1xb64_fashion_mnist.py')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = load_config(parse(gan))
    enable_amp(cfg)
    for name in ('generator', 'discriminator'):
        assert cfg.optim_wrapper[name].type == 'AmpOptimWrapper'
        assert cfg.optim_wrapper[name].loss_scale == 'dynamic'
    assert cfg.optim_wrapper.constructor == 'SeparateOptimWrapperConstructor'
    cfg = load_config(parse(CONFIG))  # one optimiser
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'


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
