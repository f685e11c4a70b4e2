# Copyright (c) cgankd_plugin contributors.
"""Train a conditional GAN with checkpoints that survive a kill."""
import copy
import os.path as osp
from typing import Dict, Optional

import torch
from mmengine.registry import OPTIMIZERS

from ..utils.atomic_io import atomic_torch_save
from ..utils.checkpoint import CheckpointError, load_state_dict_file
from ..utils.fault_injection import fault_point
from ..utils.progress import ProgressLog


class GANTrainer:
    """Run ``gan.train_on_tensors`` for a number of iterations, resumably.

    Under ``work_dir``: ``cgan_latest.pth`` (weights, optimizers, the random
    generator's state and the iteration, every ``checkpoint_interval``
    iterations) and ``cgan_final.pth`` (the weights, when done). A run that
    finds ``cgan_final.pth`` loads it; one that finds only
    ``cgan_latest.pth`` continues from it and ends with the same weights as
    an uninterrupted run. Everything is read with ``weights_only=True``.

    Args:
        gan (BaseConditionalGAN): The conditional GAN (``train_on_tensors``).
        optimizers (dict): ``generator`` / ``discriminator`` optimizer
            configs.
        iters (int): Iterations in all.
        batch_size (int): Batch size.
        checkpoint_interval (int): Save every this many iterations.
        work_dir (str): Where the checkpoints go.
        seed (int): Seed of every draw of the training.
        logger (logging.Logger): Where progress lines go (``runner.logger``).
    """

    def __init__(self, gan, optimizers: dict, iters: int, batch_size: int,
                 checkpoint_interval: int, work_dir: str, seed: int,
                 logger) -> None:
        self.gan = gan
        self.optimizer_cfgs = optimizers
        self.iters = int(iters)
        self.batch_size = int(batch_size)
        self.interval = max(1, int(checkpoint_interval))
        self.work_dir = work_dir
        self.seed = int(seed)
        self.logger = logger
        self.final_path = self.final_weights(work_dir)
        self.latest_path = osp.join(work_dir, 'cgan_latest.pth')
        self.last_losses: Dict[str, float] = {}

    def _build_optimizers(self) -> Dict[str, torch.optim.Optimizer]:
        optims = {}
        for name in ('generator', 'discriminator'):
            if name not in self.optimizer_cfgs:
                raise ValueError(f'CGANHook.gan_optimizers needs {name!r}')
            cfg = copy.deepcopy(self.optimizer_cfgs[name])
            cfg['params'] = getattr(self.gan, name).parameters()
            optims[name] = OPTIMIZERS.build(cfg)
        return optims

    def _save_latest(self, optims, rng: torch.Generator, it: int) -> None:
        atomic_torch_save(
            dict(
                gan=self.gan.state_dict(),
                generator_optim=optims['generator'].state_dict(),
                discriminator_optim=optims['discriminator'].state_dict(),
                rng_state=rng.get_state(),
                iteration=it), self.latest_path)
        fault_point('cgan.checkpoint')

    def _resume(self, optims, rng: torch.Generator) -> int:
        if not osp.isfile(self.latest_path):
            return 0
        try:
            state = torch.load(
                self.latest_path, map_location='cpu', weights_only=True)
        except Exception as err:  # torn, truncated or not a checkpoint
            raise CheckpointError(
                f'cGAN: the checkpoint {self.latest_path!r} does not load '
                f'({type(err).__name__}: {str(err).splitlines()[0]}). It '
                'holds only the training state of an unfinished cGAN: '
                'remove it to train the cGAN from the start (or restore '
                'it from a copy).') from err
        self.gan.load_state_dict(state['gan'])
        optims['generator'].load_state_dict(state['generator_optim'])
        optims['discriminator'].load_state_dict(state['discriminator_optim'])
        rng.set_state(state['rng_state'])
        it = int(state['iteration'])
        self.logger.info(f'cGAN: resuming from iteration {it} '
                         f'({self.latest_path})')
        return it

    @staticmethod
    def final_weights(work_dir: str) -> str:
        """Where a run in ``work_dir`` leaves the trained weights.

        Args:
            work_dir (str): The trainer's folder.

        Returns:
            str: The path of ``cgan_final.pth`` there.
        """
        return osp.join(work_dir, 'cgan_final.pth')

    def run(self, images: torch.Tensor,
            labels: torch.Tensor) -> Optional[Dict[str, float]]:
        """Train (or load the finished weights); returns the last losses."""
        if osp.isfile(self.final_path):
            self.gan.load_state_dict(
                load_state_dict_file(self.final_path, 'cGAN checkpoint'))
            self.logger.info(f'cGAN: trained weights loaded from '
                             f'{self.final_path}')
            return None
        optims = self._build_optimizers()
        rng = torch.Generator().manual_seed(self.seed)
        start = self._resume(optims, rng)
        progress = ProgressLog(
            'cGAN: iter', self.iters, self.logger.info, start=start)
        for it in range(start, self.iters):
            self.last_losses = self.gan.train_on_tensors(
                images, labels, optims, self.batch_size, rng)
            for name, value in self.last_losses.items():
                if value != value or abs(value) == float('inf'):
                    raise FloatingPointError(
                        f'cGAN training diverged at iteration {it + 1}: '
                        f'{name}={value}; lower the learning rates in '
                        'CGANHook.gan_optimizers.')
            progress.update(
                it + 1, '  '.join(f'{k}: {v:.4f}'
                                  for k, v in self.last_losses.items()))
            if (it + 1) % self.interval == 0 and it + 1 < self.iters:
                self._save_latest(optims, rng, it + 1)
        atomic_torch_save(self.gan.state_dict(), self.final_path)
        self.logger.info(f'cGAN: trained weights saved to {self.final_path}')
        return self.last_losses
