# Copyright (c) cgankd_plugin contributors.
"""A local file backend whose writes are atomic (``backend='atomic_local'``).

MMEngine's ``LocalBackend.put`` opens the target with ``'wb'`` and writes
into it, so a process killed during a checkpoint save leaves a truncated
``epoch_N.pth`` that ``--resume`` then fails to load. This backend writes
the bytes to a temporary file beside the target, flushes them to disk and
renames the file over the target: a reader sees the old file or the new
one. :class:`~cgankd_plugin.engine.hooks.AtomicCheckpointHook` saves
through it.
"""
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

from ..utils.atomic_io import atomic_write_bytes


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """``LocalBackend`` with ``put`` and ``put_text`` made atomic."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write ``obj`` to ``filepath`` through a flushed temp file."""
        atomic_write_bytes(obj, str(filepath))

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Write the text ``obj`` to ``filepath`` atomically."""
        atomic_write_bytes(obj.encode(encoding), str(filepath))
