# Copyright (c) cgankd_plugin contributors.
"""The student's view of a bank image: what the teacher must judge.

Every pass of the teacher or filtering network at bank-build time sees a
generated image as the student's evaluation sees an image (size,
channels, value range): through a pipeline given explicitly, by default
the student config's test pipeline. Loading, relabelling and packing
transforms are left out of it (bank images arrive decoded). A view in
which a generated and a real image come out in different sizes is
refused before the cGAN trains.
"""
from typing import List, Sequence, Tuple

import numpy as np
import torch
from mmcv.transforms import Compose

from ..registry import TRANSFORMS

# Transforms that do not change how an image looks to a network: loading
# (bank images arrive decoded), relabelling and packing.
_SKIPPED_PREFIXES = ('Load', 'Pack')
_SKIPPED = ('TeacherRelabel', 'Collect', 'ToTensor')


def _name(transform) -> str:
    if isinstance(transform, dict):
        return str(transform['type']).split('.')[-1]
    return type(transform).__name__


def _looks(transform) -> bool:
    """Whether ``transform`` changes how an image looks to a network."""
    name = _name(transform)
    return not (name in _SKIPPED or name.startswith(_SKIPPED_PREFIXES))


def _sample_of(image: np.ndarray) -> dict:
    """A CHW uint8 image as the raw sample the data set would give."""
    hwc = np.ascontiguousarray(image.transpose(1, 2, 0))
    if hwc.shape[2] == 1:
        hwc = hwc[..., 0]
    return dict(img=hwc, img_shape=hwc.shape[:2], ori_shape=hwc.shape[:2])


def _as_chw(img: np.ndarray) -> torch.Tensor:
    if img.ndim == 2:
        img = img[..., None]
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


class TeacherView:
    """Render bank images (uint8, N x C x H x W) as the student sees them.

    Args:
        pipeline (Sequence | Compose): The view (built transforms or their
            configs), e.g. the student's test pipeline. Its loading,
            relabelling and packing transforms are left out; the rest
            (e.g. ``GrayToRGB``, ``Resize``, ``CenterCrop``) is applied to
            each image in order.
        source (str): Where the pipeline comes from, for error messages.
    """

    def __init__(self,
                 pipeline,
                 source: str = 'CGANHook.teacher_view') -> None:
        transforms = [
            t for t in getattr(pipeline, 'transforms', pipeline) or []
            if _looks(t)
        ]
        self.names: List[str] = [_name(t) for t in transforms]
        self.source = source
        self._compose = Compose([
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in transforms
        ])

    @property
    def is_identity(self) -> bool:
        """Whether the view leaves images as they are."""
        return not self.names

    def settings(self) -> List[dict]:
        """The view as plain data, for the bank's key."""
        return [
            dict(type=name, **{
                k: v
                for k, v in sorted(vars(t).items())
                if isinstance(v, (bool, int, float, str, tuple, list))
            }) for name, t in zip(self.names, self._compose.transforms)
        ]

    def describe(self) -> str:
        """``'GrayToRGB -> Resize'``, or ``'identity'``."""
        return ' -> '.join(self.names) or 'identity'

    def render_one(self, image: np.ndarray) -> torch.Tensor:
        """One CHW uint8 image in the student's view (a CHW tensor)."""
        results = self._compose(_sample_of(image))
        if results is None:
            raise ValueError(f'{self.source} dropped a bank image (a '
                             'transform returned None)')
        return _as_chw(results['img'])

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Render a batch.

        Args:
            images (torch.Tensor): uint8 (N, C, H, W) bank images.

        Returns:
            torch.Tensor: (N, C', H', W'), the dtype the pipeline yields.
        """
        if self.is_identity:
            return images
        array = images.cpu().numpy()
        return torch.stack([self.render_one(image) for image in array])


def check_view_sizes(view: TeacherView, fake_shape: Sequence[int],
                     real_sample: dict,
                     train_pipeline=None,
                     size_key: str = 'CGANHook.cgan model.img_size'
                     ) -> Tuple:
    """Refuse a view in which fake and real images would differ.

    Args:
        view (TeacherView): The teacher's view.
        fake_shape (Sequence[int]): (C, H, W) of the cGAN's images.
        real_sample (dict): A raw real training sample (``img`` decoded).
        train_pipeline (Sequence | Compose, optional): The training
            pipeline; when given, the size its image transforms give a
            real sample must be the view's (the student trains and is
            judged at one size).
        size_key (str): The config key of the cGAN's resolution.

    Returns:
        tuple: The (C, H, W) shape of the view.

    Raises:
        ValueError: Naming both sizes and the keys to change.
    """
    fake = view.render_one(np.zeros(tuple(fake_shape), np.uint8))
    img = np.asarray(real_sample['img'])
    real_chw = img[None] if img.ndim == 2 else img.transpose(2, 0, 1)
    real = view.render_one(np.ascontiguousarray(real_chw))
    if tuple(fake.shape) != tuple(real.shape):
        raise ValueError(
            f'teacher view: a generated image ({tuple(fake_shape)}, '
            f'{size_key}) comes out of {view.source} ({view.describe()}) '
            f'as {tuple(fake.shape)} but a real image as '
            f'{tuple(real.shape)}: the teacher and the student would see '
            f'other images than each other. Set {size_key} to the real '
            'images\' size, or add a Resize to the pipeline so both reach '
            'the same size.')
    if train_pipeline is not None:
        student = TeacherView(train_pipeline)._compose(
            _sample_of(np.ascontiguousarray(real_chw)))
        if student is not None:
            size = tuple(np.asarray(student['img']).shape[:2])
            if size != tuple(real.shape[-2:]):
                raise ValueError(
                    f'teacher view: the training pipeline gives the '
                    f'student {size} images but the teacher view '
                    f'({view.source}: {view.describe()}) gives '
                    f'{tuple(real.shape[-2:])}: set CGANHook.teacher_view '
                    'to a pipeline that gives the training size.')
    return tuple(real.shape)
