# Copyright (c) cgankd_plugin contributors.
"""A Runner that builds cGAN-KD's bank before the training dataloader."""
import copy
from typing import Dict, Optional, Union

from mmengine.config import Config
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from ...datasets.synthetic_mix_dataset import find_mix_config
from ...registry import RUNNERS
from ..hooks.cgan_hook import CGANHook, cgan_hook_index
from .cgan_pretraining import pretrain_gan


@RUNNERS.register_module()
class CGANKDRunner(Runner):
    """MMEngine's ``Runner``, with cGAN-KD's data stage before the loader.

    MMEngine builds the training loop, and with it the training
    dataloader (an iteration-based loop even starts its workers), before
    any hook runs. This runner lets the config's :class:`CGANHook` train
    (or load) the cGAN and build the bank when the training dataloader is
    about to be built, and builds the loader from the config the hook
    returns, so the loader, its dataset and its workers are made once,
    with the bank in place. Everything else is MMEngine's.

    Configs select it with ``runner_type = 'CGANKDRunner'`` (the
    ``configs/_base_/cgankd/*`` files set it); ``tools/train.py``, like
    mmrazor's, builds the runner a config names. A dataloader config
    without a ``SyntheticMixDataset`` (validation, test, or a config
    without ``CGANHook``) is built as by ``Runner``.

    With ``CGANHook(gan_trainer='runner')``, :meth:`from_cfg` first trains
    the cGAN with a Runner of its own on every rank
    (:func:`~cgankd_plugin.engine.runner.cgan_pretraining.pretrain_gan`),
    before this runner exists, and gives the hook its weights.
    """

    @classmethod
    def from_cfg(cls, cfg: Config) -> 'CGANKDRunner':
        """Build the runner; the cGAN first when a Runner is to train it.

        Args:
            cfg (Config): The full config.

        Returns:
            CGANKDRunner: The runner.
        """
        cfg = copy.deepcopy(cfg)
        pretrain_gan(cfg)
        return super().from_cfg(cfg)

    def cgan_hook(self) -> Optional[CGANHook]:
        """The config's ``CGANHook`` (None when it has none)."""
        index = cgan_hook_index(self.hooks)
        return None if index is None else self.hooks[index]

    def build_dataloader(self,
                         dataloader: Union[DataLoader, Dict],
                         seed: Optional[int] = None,
                         diff_rank_seed: bool = False) -> DataLoader:
        """Build a dataloader; a training set's bank first (see above).

        Args:
            dataloader (DataLoader | dict): A dataloader or its config.
            seed (int, optional): Random seed of the workers.
            diff_rank_seed (bool): Whether every rank seeds differently.

        Returns:
            DataLoader: The dataloader.
        """
        hook = self.cgan_hook()
        if (hook is not None and isinstance(dataloader, dict)
                and find_mix_config(dataloader.get('dataset')) is not None):
            dataloader = hook.prepare_train_dataloader(self, dataloader)
        return super().build_dataloader(
            dataloader, seed=seed, diff_rank_seed=diff_rank_seed)
