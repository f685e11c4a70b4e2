# Copyright (c) cgankd_plugin contributors.
"""A Runner that builds cGAN-KD's bank before the training dataloader."""
from typing import Dict, Optional, Sequence, Union

from mmengine.config import Config
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from ...datasets.synthetic_mix_dataset import find_mix_config
from ...registry import HOOKS, RUNNERS
from ..cgan_stage_checks import check_load_from
from ..hooks.cgan_hook import CGANHook


def cgan_hook_index(custom_hooks: Optional[Sequence]) -> Optional[int]:
    """Where ``CGANHook`` stands in a config's ``custom_hooks``.

    The entry's ``type`` is resolved through the registry, so ``CGANHook``,
    ``mmrazor.CGANHook`` and the class itself all match.

    Args:
        custom_hooks (Sequence, optional): Hook configs or built hooks.

    Returns:
        int, optional: Its index (None: there is none).

    Raises:
        ValueError: More than one (a training set has one bank).
    """
    found = []
    for i, hook in enumerate(custom_hooks or []):
        kind = hook.get('type') if isinstance(hook, dict) else type(hook)
        if isinstance(kind, str):
            kind = HOOKS.get(kind)
        if isinstance(kind, type) and issubclass(kind, CGANHook):
            found.append(i)
    if len(found) > 1:
        raise ValueError('custom_hooks holds more than one CGANHook: a '
                         'training set has one bank.')
    return found[0] if found else None


@RUNNERS.register_module()
class CGANKDRunner(Runner):
    """MMEngine's ``Runner``, with cGAN-KD's data stage before the loader.

    MMEngine builds the training dataloader (an iteration-based loop even
    starts its workers) before any hook runs. This runner lets the
    config's :class:`CGANHook` train (or load) the cGAN and build the bank
    when the training dataloader is about to be built, and builds the
    loader from the config the hook returns, so the loader, its dataset
    and its workers are made once, with the bank in place. A dataloader
    without a ``SyntheticMixDataset`` is built as by ``Runner``.

    A ``load_from`` that names no file is refused before anything is
    built (the cGAN-KD fine-tune's student; see
    :func:`~cgankd_plugin.engine.cgan_stage_checks.check_load_from`).

    Configs select it with ``runner_type = 'CGANKDRunner'`` (the
    ``configs/_base_/cgankd/*`` files set it).
    """

    @classmethod
    def from_cfg(cls, cfg: Config) -> 'CGANKDRunner':
        """Build the runner; a missing ``load_from`` stops it at once.

        Args:
            cfg (Config): The config.

        Returns:
            CGANKDRunner: The runner.
        """
        check_load_from(cfg)
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
