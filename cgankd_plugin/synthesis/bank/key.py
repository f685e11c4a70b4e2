# Copyright (c) cgankd_plugin contributors.
"""The hashing behind a bank's key and its file checksums.

A bank's key hashes the weights it is built from (:func:`hash_state_dict`)
and its settings (:func:`hash_settings`); every stored file is checked
against its :func:`file_sha256`.
"""
import hashlib
import json
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:  # pragma: no cover
    import torch


def _tensor_bytes(tensor: 'torch.Tensor') -> bytes:
    """Return the raw bytes of ``tensor`` (cpu, contiguous, any dtype)."""
    import torch
    flat = tensor.detach().cpu().contiguous().reshape(-1)
    return flat.view(torch.uint8).numpy().tobytes()


def _update_framed(digest: 'hashlib._Hash', data: bytes) -> None:
    """Feed ``data`` prefixed by its length, so fields cannot run together."""
    digest.update(len(data).to_bytes(8, 'little'))
    digest.update(data)


def hash_state_dict(state_dict: Mapping[str, 'torch.Tensor']) -> str:
    """Return a deterministic sha256 of a module's weights.

    Names are visited in sorted order; for each, the name, dtype, shape and
    raw bytes of the (cpu, contiguous) tensor are hashed. Non-tensor entries
    (rare ``_extra_state`` values) are hashed through their ``repr``.

    Args:
        state_dict: Mapping from parameter/buffer name to tensor.

    Returns:
        The hex digest.
    """
    import torch
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        value = state_dict[name]
        _update_framed(digest, name.encode('utf-8'))
        if isinstance(value, torch.Tensor):
            _update_framed(digest, str(value.dtype).encode())
            _update_framed(digest, str(tuple(value.shape)).encode())
            _update_framed(digest, _tensor_bytes(value))
        else:
            _update_framed(digest, repr(value).encode('utf-8'))
    return digest.hexdigest()


def hash_settings(settings: Mapping) -> str:
    """Return the sha256 of ``json.dumps(settings, sort_keys=True)``.

    Values JSON cannot encode are hashed through ``str``.
    """
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def file_sha256(path: str) -> str:
    """Return the sha256 of a file, read in blocks."""
    with open(path, 'rb') as f:
        return hashlib.file_digest(f, 'sha256').hexdigest()
