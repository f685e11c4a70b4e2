# Copyright (c) cgankd_plugin contributors.
"""Fit the size of CRD's memory bank to the training set."""
from typing import Iterator

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmrazor.models.losses import CRDLoss
from mmrazor.models.losses.crd_loss import ContrastLoss, ContrastMemory

from ...datasets.dataset_tree import find_dataset
from ...registry import HOOKS


def _crd_losses(model) -> Iterator[CRDLoss]:
    if is_model_wrapper(model):
        model = model.module
    for module in model.modules():
        if isinstance(module, CRDLoss):
            yield module


def _find_neg_num(dataset):
    """``neg_num`` of the first CRD dataset wrapper in a dataset tree."""
    crd = find_dataset(dataset, lambda d: hasattr(d, 'neg_num'))
    return None if crd is None else crd.neg_num


@HOOKS.register_module()
class CRDMemorySizeHook(Hook):
    """Size every ``CRDLoss`` memory bank by the training set's length.

    mmrazor's ``CRDLoss`` takes its memory-bank size (``sample_n``) as a
    number in the config, defaulting to 50,000. Too small a number fails
    mid-run with an ``IndexError``; too large a one trains with wrong noise
    constants and no error. This hook, run before training (after the
    dataloader exists, before a checkpoint is resumed), makes the memory as
    long as the training set, so changing the data never means editing a
    second number. With ``resize=False`` it only checks and raises a clear
    error on a mismatch. It also checks that the loss draws as many
    negatives as the dataset wrapper supplies.

    Args:
        resize (bool): Rebuild mismatching memories (True) or raise.
    """

    priority = 'VERY_HIGH'

    def __init__(self, resize: bool = True) -> None:
        self.resize = resize

    def before_run(self, runner) -> None:
        losses = list(_crd_losses(runner.model))
        if not losses:
            return
        dataset = runner.train_dataloader.dataset
        num_samples = len(dataset)
        neg_num = _find_neg_num(dataset)
        for loss in losses:
            memory = loss.contrast
            if neg_num is not None and memory.neg_sample != neg_num:
                raise ValueError(
                    f'CRDLoss draws neg_num={memory.neg_sample} negatives '
                    f'but the CRD dataset wrapper supplies {neg_num}: set '
                    'the same value in the distiller and in '
                    'train_dataloader.dataset.neg_num.')
            if memory.n_sample == num_samples:
                continue
            if not self.resize:
                raise ValueError(
                    f'CRDLoss sample_n={memory.n_sample} but the training '
                    f'set holds {num_samples} samples; set sample_n to '
                    f'{num_samples} or let CRDMemorySizeHook resize it.')
            runner.logger.info(
                f'CRDMemorySizeHook: memory bank resized from '
                f'{memory.n_sample} to {num_samples} (the training set).')
            self._rebuild(loss, num_samples)

    @staticmethod
    def _rebuild(loss: CRDLoss, num_samples: int) -> None:
        old = loss.contrast
        neg, temp, _, _, momentum = old.params.tolist()
        new = ContrastMemory(old.memory_v1.size(1), num_samples, int(neg),
                             temp, momentum)
        loss.contrast = new.to(old.memory_v1.device)
        loss.criterion_s_t = ContrastLoss(num_samples, eps=loss.eps)
