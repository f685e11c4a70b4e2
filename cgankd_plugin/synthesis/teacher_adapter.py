# Copyright (c) cgankd_plugin contributors.
"""One call that turns uint8 images into a network's features and outputs."""
import copy
from typing import Callable, Optional, Tuple

import torch
from torch import nn

from ..registry import MODELS
from ..utils.checkpoint import load_weights_strictly


class TeacherAdapter:
    """Run an mmpretrain ``ImageClassifier`` on bank-format images.

    Images arrive exactly as they will be stored (uint8, N x C x H x W), are
    rendered by ``view`` as the student's pipeline will present them (the
    teacher-view contract, :mod:`cgankd_plugin.synthesis.teacher_view`), go
    through ``data_preprocessor`` (the one the model is trained with: for a
    distiller, the algorithm's) and the network. Without a view, grey
    images are repeated to the three channels the preprocessor expects.

    Args:
        model (nn.Module): An ``ImageClassifier`` with a classification head
            (``fc`` logits) or the plugin's ``RegressionHead``.
        data_preprocessor (nn.Module, optional): Normalisation; defaults to
            ``model.data_preprocessor``.
        view (callable, optional): Maps uint8 (N, C, H, W) bank images to
            the student's view of them, e.g. a
            :class:`~cgankd_plugin.synthesis.teacher_view.TeacherView`.
    """

    def __init__(self,
                 model: nn.Module,
                 data_preprocessor: Optional[nn.Module] = None,
                 view: Optional[Callable[[torch.Tensor],
                                         torch.Tensor]] = None) -> None:
        self.model = model
        self.view = view
        self.data_preprocessor = (
            data_preprocessor
            if data_preprocessor is not None else model.data_preprocessor)
        self.is_regression = hasattr(model.head, 'to_original')
        mean = getattr(self.data_preprocessor, 'mean', None)
        self.channels = None if mean is None else mean.numel()

    @property
    def device(self) -> torch.device:
        """torch.device: Where the network runs and its outputs are."""
        return next(self.model.parameters()).device

    @torch.no_grad()
    def __call__(self,
                 images: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Features and outputs of a batch.

        Args:
            images (torch.Tensor): uint8 (N, C, H, W).

        Returns:
            tuple: penultimate features (N, D) and, for classification,
            logits (N, K); for regression, values (N,) in original units;
            both on :attr:`device`.
        """
        was_training = self.model.training
        self.model.eval()
        try:
            if self.view is not None:
                images = self.view(images)
            x = images.to(self.device)
            if x.shape[1] == 1 and self.channels == 3:
                x = x.expand(-1, 3, -1, -1)
            x = self.data_preprocessor(
                dict(inputs=x, data_samples=None), False)['inputs']
            feats = self.model.extract_feat(x)
            head = self.model.head
            pre = head.pre_logits(feats)
            if self.is_regression:
                out = head.to_original(head(feats))
            elif hasattr(head, 'fc'):
                out = head.fc(pre)
            else:
                out = head(feats)
        finally:
            self.model.train(was_training)
        return pre.flatten(1).float(), out.float()


def filter_network(model: nn.Module, view,
                   filter_model: Optional[dict] = None) -> TeacherAdapter:
    """The network that judges a bank's samples, as a :class:`TeacherAdapter`.

    The distiller's teacher through its data preprocessor, or a separate
    ``filter_model`` (``dict(model=<config>, checkpoint=<path>[,
    data_preprocessor=<config>])``, loaded strictly), on the model's
    device.

    Args:
        model (nn.Module): The distillation model (``teacher``,
            ``data_preprocessor``).
        view (TeacherView): How bank images are shown to the network.
        filter_model (dict, optional): ``CGANHook.filter.filter_model``.

    Returns:
        TeacherAdapter: The filtering network.
    """
    if filter_model is None:
        return TeacherAdapter(model.teacher, model.data_preprocessor, view)
    net = MODELS.build(copy.deepcopy(filter_model['model']))
    load_weights_strictly(net, filter_model['checkpoint'],
                          'CGANHook.filter.filter_model.checkpoint')
    preproc = model.data_preprocessor
    if filter_model.get('data_preprocessor'):
        preproc = MODELS.build(
            copy.deepcopy(filter_model['data_preprocessor']))
    device = next(model.parameters()).device
    return TeacherAdapter(net.to(device), preproc.to(device), view)
