# Copyright (c) cgankd_plugin contributors.
"""Writes that are either complete on disk or absent (never half-written)."""
import io
import json
import os
import os.path as osp
from typing import Any, BinaryIO, Callable, Mapping, Optional

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


def atomic_write(path: str,
                 write: Callable[[BinaryIO], Any],
                 fault: Optional[str] = None) -> None:
    """Write ``path`` through a flushed temporary file and a rename.

    A reader (or a run resumed after a kill) sees the old file or the new
    one, never a torn one. The temporary file is ``<path>.tmp<pid>`` in the
    same directory, so the rename stays on one file system; it is removed
    if writing fails.

    Args:
        path (str): The file.
        write (Callable[[BinaryIO], Any]): Writes the content into the
            binary file it is given.
        fault (str, optional): The :func:`fault_point` reached once the
            temporary file is on disk, before the rename.
    """
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    try:
        with open(tmp, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if fault:
            fault_point(fault)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    fsync_dir(osp.dirname(path) or '.')


def atomic_write_json(path: str, data: Mapping) -> None:
    """Write ``data`` as JSON to ``path`` (:func:`atomic_write`)."""
    text = json.dumps(data, indent=2, sort_keys=True, default=json_default)
    atomic_write(path, lambda f: f.write(text.encode('utf-8')))


def atomic_write_bytes(data: bytes, path: str) -> None:
    """Write ``data`` to ``path`` (:func:`atomic_write`).

    The fault point ``checkpoint.temp_written`` is reached before the
    rename.
    """
    atomic_write(path, lambda f: f.write(data), 'checkpoint.temp_written')


def atomic_torch_save(obj: Any, path: str) -> None:
    """``torch.save`` to a flushed temporary file, renamed over ``path``."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(buffer.getvalue(), path)
