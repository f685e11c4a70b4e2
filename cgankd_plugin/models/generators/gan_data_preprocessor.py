# Copyright (c) cgankd_plugin contributors.
"""Batches of a Runner's dataloader as a conditional GAN trains on them."""
from typing import List, Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from cgankd_plugin.registry import MODELS


@MODELS.register_module()
class ConditionalGANDataPreprocessor(BaseDataPreprocessor):
    """Stack uint8 images into floats in ``[-1, 1]``; gather the labels.

    The images come as the dataset's pipeline packs them (``PackInputs``:
    CHW uint8 tensors), so the cGAN learns the images its bank will stand
    in for; the labels are the samples' ``gt_label`` (classes). Samples
    of a ``VicinalDataset`` (a CcGAN's) carry the draws of
    ``VicinalBatchSampler`` in their metainfo instead; they are gathered
    into ``vicinal``. Everything the training step computes with goes to
    the device here, the one place where a batch crosses over.

    Args:
        non_blocking (bool): Copy to the device without blocking.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        """Cast a collated batch.

        Args:
            data (dict): ``inputs`` (a list or a stack of CHW uint8 images)
                and ``data_samples``.
            training (bool): Unused: training and testing cast alike.

        Returns:
            dict: ``inputs`` ((B, C, H, W) floats in ``[-1, 1]`` on the
            device), ``data_samples``, ``labels`` ((B,) class indices on
            the device, or None when the samples carry none) and
            ``vicinal`` (the vicinal draws, or None: each a (B,) tensor,
            the per-sample ones float32 on the device, the sampler's
            settings ``VICINITY_SETTINGS`` float64 on the host).
        """
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):
            inputs = torch.stack(list(inputs))
        if inputs.dtype != torch.uint8:
            raise TypeError('the cGAN trains on uint8 images (the pipeline '
                            'must end in PackInputs without normalising), '
                            f'got {inputs.dtype}')
        samples = data.get('data_samples')
        labels = class_labels(samples)
        images = inputs.to(self.device, non_blocking=self._non_blocking)
        vicinal = _vicinal_draws(samples)
        if vicinal is not None:
            for name in VICINAL_DRAWS:
                vicinal[name] = self.cast_data(vicinal[name].float())
        return dict(
            inputs=images.float() / 127.5 - 1.0,
            data_samples=samples,
            labels=None if labels is None else self.cast_data(labels),
            vicinal=vicinal)


# the per-sample draws, and the settings they were drawn with
VICINAL_DRAWS = ('vicinal_target', 'fake_label', 'gen_label', 'real_weight',
                 'fake_weight')
VICINITY_SETTINGS = ('vicinity_sigma', 'vicinity_kappa', 'vicinity_soft')


def _vicinal_draws(samples: Optional[Sequence]) -> Optional[dict]:
    if not samples or not all(
            'vicinal_target' in s.metainfo for s in samples):
        return None
    return {
        name: torch.tensor([float(s.metainfo[name]) for s in samples],
                           dtype=torch.float64)
        for name in VICINAL_DRAWS + VICINITY_SETTINGS
    }


def class_labels(samples: Optional[Sequence]) -> Optional[torch.Tensor]:
    """The samples' classes (the first of each ``gt_label``), as they come.

    Args:
        samples (Sequence, optional): ``DataSample`` s.

    Returns:
        torch.Tensor | None: (B,) long, on the samples' (host) device; None
        when a sample has no ``gt_label``.
    """
    if not samples or not all('gt_label' in s for s in samples):
        return None
    labels: List[torch.Tensor] = [
        torch.as_tensor(s.gt_label).reshape(-1)[:1] for s in samples
    ]
    return torch.cat(labels).long()
