# Copyright (c) cgankd_plugin contributors.
"""``train_cgan``: the environment of the nested cGAN Runner."""
import copy

import torch
import torch.nn as nn
from mmengine.logging import MMLogger

import cgankd_plugin  # noqa: F401
from cgankd_plugin.engine import cgan_training
from cgankd_plugin.engine.cgan_training import load_cgan_recipe, train_cgan

RECIPE = 'configs/cgan/dcgan_1xb64_fashion_mnist.py'


class _Runner:
    """Stands in for MMEngine's Runner: records its config, switches the
    cuDNN benchmark mode as ``Runner.setup_env`` does, trains nothing."""

    configs = []

    def __init__(self) -> None:
        self.model = nn.Linear(1, 1)

    @classmethod
    def from_cfg(cls, cfg):
        cls.configs.append(copy.deepcopy(cfg))
        if cfg.env_cfg.get('cudnn_benchmark'):
            torch.backends.cudnn.benchmark = True
        return cls()

    def train(self) -> None:
        pass


def test_the_cgan_trains_with_its_recipes_cudnn_mode_and_leaves_it(
        tmp_path, monkeypatch):
    monkeypatch.setattr(cgan_training, 'Runner', _Runner)
    monkeypatch.setattr(torch.backends.cudnn, 'benchmark', False)
    recipe = load_cgan_recipe(RECIPE)
    assert recipe.env_cfg.cudnn_benchmark is True
    student_env = dict(cudnn_benchmark=False,
                       dist_cfg=dict(backend='gloo', timeout=60))
    train_cgan(recipe, str(tmp_path / 'cgan'), 'none', student_env,
               MMLogger.get_current_instance())
    env = _Runner.configs[-1].env_cfg
    assert env.cudnn_benchmark is True  # the recipe's
    assert env.dist_cfg == student_env['dist_cfg']  # the student's
    # the student's run goes on in its own mode
    assert torch.backends.cudnn.benchmark is False
