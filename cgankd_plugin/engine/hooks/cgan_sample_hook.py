# Copyright (c) cgankd_plugin contributors.
"""A grid of a cGAN's samples while it trains, through the visualizer."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.dist import master_only
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ...registry import HOOKS
from ...synthesis.builder.rng import to_uint8
from ...synthesis.visualize import labelled_grid


@HOOKS.register_module()
class CGANSampleHook(Hook):
    """Show the cGAN's samples every ``interval`` iterations and at the end.

    One row per condition (classes spread over the range, or label values
    spread over [0, 1] for a CcGAN), labelled with the class name (the
    training set's ``metainfo['classes']``, else its index) or the
    normalised value, the same noise every time, drawn by the generator
    the bank will use (the EMA's when there is one). The grid goes to the
    runner's visualizer as ``cgan_samples`` at the iteration (with
    ``LocalVisBackend``: ``vis_data/vis_image/cgan_samples_<iter>.png``).

    Args:
        interval (int): Iterations between grids.
        per_row (int): Samples per condition.
        max_rows (int): Conditions shown at most.
        seed (int): Seed of the noise.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 2000,
                 per_row: int = 10,
                 max_rows: int = 10,
                 seed: int = 0) -> None:
        if int(interval) < 1:
            raise ValueError('CGANSampleHook.interval must be >= 1, got '
                             f'{interval!r}')
        self.interval = int(interval)
        self.per_row = int(per_row)
        self.max_rows = int(max_rows)
        self.seed = int(seed)

    @master_only
    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Add a grid at every ``interval``-th and at the last iteration."""
        if not (self.every_n_train_iters(runner, self.interval)
                or self.is_last_train_iter(runner)):
            return
        gan = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if gan.is_continuous:
            rows = torch.linspace(0, 1, self.max_rows)
        else:
            rows = torch.from_numpy(np.unique(np.linspace(
                0, gan.num_classes - 1, self.max_rows).astype(np.int64)))
        labels = rows.repeat_interleave(self.per_row)
        images = gan.sample(
            labels, rng=torch.Generator().manual_seed(self.seed))
        grid = labelled_grid(
            to_uint8(images).cpu().numpy(), labels.numpy(),
            None if gan.is_continuous else _class_names(runner),
            self.per_row, self.max_rows)
        runner.visualizer.add_image('cgan_samples', grid,
                                    step=runner.iter + 1)


def _class_names(runner) -> Optional[Sequence[str]]:
    """The training set's ``metainfo['classes']`` (None: it has none)."""
    dataset = getattr(runner.train_dataloader, 'dataset', None)
    return getattr(dataset, 'metainfo', {}).get('classes')
