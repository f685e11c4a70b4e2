# Copyright (c) cgankd_plugin contributors.
"""Writes that are either complete on disk or absent (never half-written)."""
import io
import json
import os
import os.path as osp
from typing import Any, Mapping, Optional

import numpy as np
import torch

from .fault_injection import fault_point


def json_default(value: Any) -> Any:
    """Turn numpy values into JSON ones; anything else into ``str``."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def fsync_dir(path: str) -> None:
    """Flush a directory entry to disk (best effort; no-op where unsupported).
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_json(path: str, data: Mapping) -> None:
    """Write ``data`` as JSON to ``path`` through a temp file + replace."""
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=2, sort_keys=True, default=json_default)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(osp.dirname(path) or '.')


def read_json(path: str) -> Optional[dict]:
    """The JSON object (a ``dict``) at ``path``.

    Returns:
        dict, optional: None if the file is missing, unreadable, not JSON
        or JSON that is not an object: every caller looks keys up in it.
    """
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def atomic_write_bytes(data: bytes, path: str) -> None:
    """Write ``data`` to ``path`` through a flushed temp file + rename.

    A reader (or a run resumed after a kill) sees the old file or the new
    one, never a torn one. The temporary file is ``<path>.tmp<pid>`` in the
    same directory, so the rename stays on one file system.
    """
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        fault_point('checkpoint.temp_written')
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    fsync_dir(osp.dirname(path) or '.')


def atomic_torch_save(obj: Any, path: str) -> None:
    """``torch.save`` to a flushed temporary file, renamed over ``path``."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(buffer.getvalue(), path)
