# Copyright (c) cgankd_plugin contributors.
"""Loading weights safely and strictly.

Every checkpoint the plugin loads goes through :func:`load_state_dict_file`:
``torch.load(weights_only=True)``, so a file that carries pickled code is
refused without running it, and a clear error names the file.
"""
import os
import pickle
from typing import Dict, Optional

import torch


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unsafe or does not fit its model."""


def load_state_dict_file(path: str,
                         what: str = 'checkpoint',
                         prefix: Optional[str] = None) -> Dict[str, object]:
    """Read the model weights of a checkpoint file.

    Accepts a bare state dict or an MMEngine checkpoint (its
    ``'state_dict'``), loaded with ``weights_only=True``.

    Args:
        path (str): The file.
        what (str): What the weights are for (``'teacher_ckpt'``, ...), used
            in error messages.
        prefix (str, optional): Keep only keys starting with this prefix, and
            strip it (e.g. ``'teacher.'`` to take the teacher out of a
            distillation checkpoint).

    Returns:
        dict: name -> tensor.
    """
    if not path or not os.path.isfile(path):
        raise CheckpointError(f'{what}: checkpoint file {path!r} does not '
                              'exist.')
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f'{what}: {path!r} holds objects other than tensors and plain '
            'data, so it is refused (loading it could run code). If you '
            'trust the file, convert it once with '
            "torch.save(torch.load(path, weights_only=False)['state_dict'], "
            f'new_path) and point the config to new_path. Detail: {err}'
        ) from None
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(f'{what}: {path!r} holds no state dict.')
    if prefix:
        state = {
            k[len(prefix):]: v
            for k, v in state.items() if k.startswith(prefix)
        }
        if not state:
            raise CheckpointError(
                f'{what}: no key of {path!r} starts with {prefix!r}.')
    return state


def load_weights_strictly(module: torch.nn.Module,
                          path: str,
                          what: str = 'checkpoint',
                          prefix: Optional[str] = None) -> None:
    """Load ``path`` into ``module``; every key must match, or it raises.

    Args:
        module (nn.Module): The model to fill.
        path (str): The checkpoint file.
        what (str): The config field the file came from, for messages.
        prefix (str, optional): See :func:`load_state_dict_file`.
    """
    state = load_state_dict_file(path, what, prefix)
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        hint = ''
        sample = next(iter(state), '')
        if unexpected and '.' in sample and sample.split('.')[0] not in {
                k.split('.')[0]
                for k in expected
        }:
            hint = (f' The file\'s keys start with {sample.split(".")[0]!r}.'
                    ' If it is a distillation checkpoint, set the prefix '
                    "(e.g. model.teacher_ckpt_prefix='teacher.').")
        raise CheckpointError(
            f'{what}: {path!r} does not fit the model: {len(missing)} '
            f'missing keys (e.g. {missing[:3]}), {len(unexpected)} '
            f'unexpected keys (e.g. {unexpected[:3]}). Expected keys like '
            f'{list(expected)[:3]}.{hint}')
    for name, value in expected.items():
        if tuple(value.shape) != tuple(state[name].shape):
            raise CheckpointError(
                f'{what}: {path!r} does not fit the model: {name!r} has '
                f'shape {tuple(state[name].shape)} in the file and '
                f'{tuple(value.shape)} in the model.')
    module.load_state_dict(state, strict=True)
