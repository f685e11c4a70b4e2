# Copyright (c) cgankd_plugin contributors.
"""Loading weights safely and strictly.

Every checkpoint the plugin loads goes through :func:`load_checkpoint_file`:
``torch.load(weights_only=True)``, so a file that carries pickled code is
refused without running it, and a clear error names the file.

A distillation checkpoint (mmrazor's algorithms) holds the student under
:data:`STUDENT_PREFIX`; :func:`student_state_dict` takes it out as the
state dict of the plain model (what
``tools/convert_kd_ckpt_to_student.py`` writes).
"""
import os
import pickle
from collections import Counter, OrderedDict
from typing import Dict, Iterable, Optional

import torch

#: The prefix of the student's keys in a checkpoint of an mmrazor
#: algorithm (its ``architecture``).
STUDENT_PREFIX = 'architecture.'


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unsafe or does not fit its model."""


def load_checkpoint_file(path: str, what: str = 'checkpoint') -> object:
    """Read a checkpoint file whole, with ``weights_only=True``.

    Args:
        path (str): The file.
        what (str): What the file is for (``'teacher_ckpt'``, ...), used in
            error messages.

    Returns:
        object: What the file holds (a dict for MMEngine checkpoints and
        state dicts).
    """
    if not path or not os.path.isfile(path):
        raise CheckpointError(f'{what}: checkpoint file {path!r} does not '
                              'exist.')
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        if 'getattr' in str(err):
            # an MMEngine checkpoint written without the plugin imported
            advice = ('If you trust the file, convert it once with '
                      f'python tools/convert_checkpoint.py {path} NEW.pth '
                      '--trust and use NEW.pth.')
        else:
            advice = ('If you trust the file, convert it once with '
                      "torch.save(torch.load(path, weights_only=False)"
                      "['state_dict'], new_path) and point the config to "
                      'new_path.')
        raise CheckpointError(
            f'{what}: {path!r} holds objects other than tensors and plain '
            f'data, so it is refused (loading it could run code). {advice} '
            f'Detail: {err}') from None


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
    ckpt = load_checkpoint_file(path, what)
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


def key_prefixes(keys: Iterable[str], limit: int = 4) -> str:
    """The first name components of ``keys``, most frequent first.

    Args:
        keys (Iterable[str]): State-dict keys.
        limit (int): How many prefixes to name.

    Returns:
        str: e.g. ``"'teacher.' (37 keys), 'backbone.' (50 keys)"``, or
        ``'no keys at all'``.
    """
    counts = Counter(
        key.split('.')[0] + ('.' if '.' in key else '') for key in keys)
    if not counts:
        return 'no keys at all'
    named = [
        f'{name!r} ({n} key{"s" if n > 1 else ""})'
        for name, n in counts.most_common(limit)
    ]
    if len(counts) > limit:
        named.append(f'{len(counts) - limit} more')
    return ', '.join(named)


def strip_prefix(state_dict: Dict[str, object],
                 prefix: str) -> 'OrderedDict[str, object]':
    """The entries of ``state_dict`` under ``prefix``, without it.

    The version metadata that ``nn.Module.state_dict`` attaches
    (``_metadata``, per module name) follows the keys, so modules that
    read it on load (BatchNorm) see their own.

    Args:
        state_dict (dict): name -> tensor.
        prefix (str): e.g. ``'architecture.'``.

    Returns:
        OrderedDict: The entries kept, renamed (empty if none matched).
    """
    kept = OrderedDict((key[len(prefix):], value)
                       for key, value in state_dict.items()
                       if key.startswith(prefix))
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None:
        module = prefix[:-1]
        kept._metadata = OrderedDict(
            ('' if name == module else name[len(prefix):], value)
            for name, value in metadata.items()
            if name == module or name.startswith(prefix))
    return kept


def extract_student(state_dict: Dict[str, object],
                    source: str = 'the checkpoint'
                    ) -> 'OrderedDict[str, object]':
    """The student of a distillation state dict, as a plain model's.

    Keeps the :data:`STUDENT_PREFIX` keys, with the prefix stripped; the
    teacher's and the distiller's (connectors, ...) are dropped.

    Args:
        state_dict (dict): The state dict of an mmrazor algorithm.
        source (str): Where it came from, for the error message.

    Returns:
        OrderedDict: name -> tensor, loadable into the student's model.

    Raises:
        CheckpointError: No key is under :data:`STUDENT_PREFIX`; the message
            names the prefixes found instead.
    """
    student = strip_prefix(state_dict, STUDENT_PREFIX)
    if not student:
        raise CheckpointError(
            f'{source} is not a distillation checkpoint: no key starts with '
            f'{STUDENT_PREFIX!r} (where mmrazor keeps the student); its '
            f'keys start with {key_prefixes(state_dict)}.')
    return student


def student_state_dict(path: str) -> 'OrderedDict[str, object]':
    """The student of a distillation checkpoint file, as a plain model's.

    Read with ``weights_only=True``. To use the student with plain
    mmpretrain (``init_model``, the inferencers), convert the file once
    with ``tools/convert_kd_ckpt_to_student.py``; in Python::

        model.load_state_dict(student_state_dict('epoch_16.pth'))

    Args:
        path (str): An MMEngine checkpoint (or a bare state dict) of an
            mmrazor distillation algorithm.

    Returns:
        OrderedDict: name -> tensor, without :data:`STUDENT_PREFIX`.
    """
    return extract_student(load_state_dict_file(path, 'student'), repr(path))
