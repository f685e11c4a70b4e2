# Copyright (c) cgankd_plugin contributors.
"""CGANKDRunner: the bank exists before the training loader is built.

The Fashion-MNIST cGAN-KD config, shrunk (a cGAN of 4 iterations, a bank
of 200 samples, an untrained teacher), with an iteration-based loop whose
two persistent workers start when the loop is built: the case where a
bank installed later would be missing from the workers' copies.
"""
import os

import pytest
import torch
from e2e_utils import fashion_mnist_bank_options
from mmengine.config import Config
from mmengine.registry import DefaultScope

import cgankd_plugin  # noqa: F401
from cgankd_plugin.datasets.synthetic_mix_dataset import find_mix_dataset
from cgankd_plugin.engine.hooks import CGANHook
from cgankd_plugin.engine.runner import CGANKDRunner
from cgankd_plugin.registry import MODELS
from cgankd_plugin.synthesis import SyntheticBank
from cgankd_plugin.utils.tool_config import build_runner

REPO_ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
CONFIG = os.path.join(REPO_ROOT, 'configs', 'fashion_mnist',
                      'cgankd_vgg8_resnet8_1xb128_fashion_mnist.py')
DATA_ROOT = os.path.join(REPO_ROOT, 'data', 'fashion_mnist')

pytestmark = pytest.mark.skipif(
    not os.path.isfile(os.path.join(DATA_ROOT, 't10k-images-idx3-ubyte')),
    reason='Fashion-MNIST not unpacked in data/fashion_mnist (make data)')


@pytest.fixture(autouse=True)
def own_default_scope():
    """The runner sets MMEngine's default scope; later tests keep theirs."""
    with DefaultScope.overwrite_default_scope('mmrazor'):
        yield


def _config(work_dir: str) -> Config:
    cfg = Config.fromfile(CONFIG)
    teacher = str(os.path.join(work_dir, 'teacher.pth'))
    os.makedirs(work_dir, exist_ok=True)
    torch.manual_seed(0)
    torch.save(dict(state_dict=MODELS.build(cfg.model.teacher).state_dict()),
               teacher)
    cfg.work_dir = work_dir
    cfg.model.teacher_ckpt = teacher
    cfg.load_from = None
    cfg.train_cfg = dict(by_epoch=False, max_iters=3, val_interval=100)
    cfg.param_scheduler = []
    cfg.merge_from_dict(fashion_mnist_bank_options())
    cfg.merge_from_dict({
        'train_dataloader.batch_size': 32,
        'train_dataloader.num_workers': 2,
        'train_dataloader.persistent_workers': True,
        # replaces the config's RealFakeRatioSampler, not merged into it
        'train_dataloader.sampler': dict(_delete_=True,
                                         type='InfiniteSampler'),
        'default_hooks.checkpoint.interval': 100,
        'default_hooks.checkpoint.by_epoch': False,
        'log_processor.by_epoch': False,
    })
    return cfg


def test_the_loop_is_built_on_the_bank_and_trains(tmp_path):
    cfg = _config(str(tmp_path / 'run'))
    assert cfg.runner_type == 'CGANKDRunner'
    runner = build_runner(cfg)
    assert isinstance(runner, CGANKDRunner)
    hook = runner.cgan_hook()
    assert isinstance(hook, CGANHook) and hook.bank is None
    loop = runner.train_loop  # builds the loader, its workers start
    assert hook.bank is not None
    mix = find_mix_dataset(runner.train_dataloader.dataset)
    assert mix.bank_dir == os.path.join(cfg.work_dir, 'synthetic_bank')
    assert SyntheticBank.is_complete(mix.bank_dir)
    # the workers forked with the bank in place: a shuffled batch of 32
    # from 200 real + 200 fake samples reads fake ones through them
    assert next(loop.dataloader_iterator)['inputs'][0].shape == (3, 28, 28)
    runner.train()
    assert runner.iter == 3
