# Copyright (c) cgankd_plugin contributors.
"""The on-disk format of a synthetic bank and the file work around it.

The format's constants (file names, suffixes, array names, label dtypes);
writing a ``.npy`` file piece by piece (:class:`NpyStreamWriter`); the
atomic ``.npz`` files of a build (:func:`save_npz`, :func:`load_npz`); the
check of a bank's folder (:func:`check_bank_dir`); the atomic swap of a
finished bank into place (:func:`install_bank`); and the small file
helpers the writer and the builder share.
"""
import hashlib
import io
import os
import os.path as osp
import shutil
from typing import Any, Dict, Iterable, Optional, Tuple

import numpy as np

from ...utils.atomic_io import atomic_write, fsync_dir
from .errors import BankError

FORMAT_VERSION = 1
META_FILE = 'meta.json'
PARTIAL_SUFFIX = '.partial'
BUILD_SUFFIX = '.build'
OLD_SUFFIX = '.old'
ARRAY_NAMES = ('images', 'cond_labels', 'teacher_labels', 'teacher_probs')
LABEL_DTYPES = ('int64', 'float32')


# --------------------------------------------------------------------------
# small file-system helpers
# --------------------------------------------------------------------------
def remove_path(path: str) -> None:
    """Delete a file or a directory tree if it exists.

    Args:
        path (str): The file, link or directory; a link is removed, not
            followed.
    """
    if osp.isdir(path) and not osp.islink(path):
        shutil.rmtree(path)
    elif osp.lexists(path):
        os.remove(path)


def make_writable_dir(path: str) -> None:
    """Create ``path`` (and parents) and check it is writable.

    Args:
        path (str): The directory.

    Raises:
        BankError: naming ``path`` if it cannot be created or written.
    """
    try:
        os.makedirs(path, exist_ok=True)
        probe = osp.join(path, '.write_probe')
        with open(probe, 'wb') as f:
            f.write(b'ok')
        os.remove(probe)
    except OSError as exc:
        raise BankError(
            f'cannot create or write the synthetic bank directory '
            f'{path!r}: {exc}. Point the bank to a writable location.'
        ) from exc


def save_npz(path: str, arrays: Dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to the ``.npz`` file ``path`` atomically.

    The file is written under a temporary name, flushed to disk and
    renamed over ``path``: a reader (or a resumed build) sees the whole
    file or none.

    Args:
        path (str): The ``.npz`` file.
        arrays (dict[str, np.ndarray]): The arrays, by name.

    Raises:
        BankError: naming the file if it cannot be written (e.g. the disk
            is full); the files written before it are kept.
    """
    try:
        atomic_write(path, lambda f: np.savez(f, **arrays))
    except OSError as err:
        folder = osp.dirname(path)
        raise BankError(
            f'bank: writing {path!r} failed ({err}). The files written '
            f'before it are kept in {folder!r}: free space there (or fix '
            'the folder) and run again to resume.') from err


def load_npz(path: str,
             fields: Optional[Iterable[str]] = None) -> Dict[str, np.ndarray]:
    """The arrays of the ``.npz`` file ``path`` (never unpickled).

    Args:
        path (str): The ``.npz`` file.
        fields (Iterable[str], optional): Read only these arrays (those the
            file holds); None: all.

    Returns:
        dict[str, np.ndarray]: The arrays, by name.
    """
    with np.load(path, allow_pickle=False) as data:
        names = data.files if fields is None else [
            f for f in fields if f in data.files
        ]
        return {name: data[name] for name in names}


class NpyStreamWriter:
    """Writes one ``.npy`` file piece by piece, hashing it on the way.

    Only the piece being written is ever in memory; once ``shape[0]`` rows
    are written (the caller, :class:`BankWriter`, counts and checks them),
    the file is byte for byte what ``np.save`` writes for the whole array.

    Args:
        path (str): The ``.npy`` file to create (truncated if it exists).
        dtype (numpy.dtype): dtype of the elements.
        shape (tuple[int]): Shape of the whole array, C order.
    """

    def __init__(self, path: str, dtype: np.dtype, shape: Tuple[int,
                                                                ...]) -> None:
        self.dtype = np.dtype(dtype)
        self.digest = hashlib.sha256()
        self.file = open(path, 'wb')
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header,
            dict(descr=np.lib.format.dtype_to_descr(self.dtype),
                 fortran_order=False,
                 shape=tuple(shape)))
        self._write_bytes(header.getvalue())

    def _write_bytes(self, data: Any) -> None:
        self.digest.update(data)
        self.file.write(data)

    def write(self, values: np.ndarray) -> None:
        """Append rows ``values`` (converted to the file's dtype)."""
        rows = np.ascontiguousarray(values, dtype=self.dtype)
        self._write_bytes(rows.reshape(-1).view(np.uint8).data)

    def close(self) -> str:
        """Flush and fsync the file; return its sha256."""
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        return self.digest.hexdigest()


# --------------------------------------------------------------------------
# folder check, installation
# --------------------------------------------------------------------------
def check_bank_dir(bank_dir: str, field: str = 'bank_dir') -> None:
    """Refuse a ``bank_dir`` whose replacement would destroy user data.

    Installing a bank renames what is at ``bank_dir`` away and deletes it,
    so the path must be absent, an empty folder, or a folder holding a
    bank (``meta.json``).

    Args:
        bank_dir (str): The bank's path.
        field (str): The setting ``bank_dir`` came from, for the error
            message. Defaults to ``'bank_dir'``.

    Raises:
        BankError: naming ``field``, the path and what is there.
    """
    if not osp.lexists(bank_dir):
        return
    if not osp.isdir(bank_dir):
        raise BankError(
            f'{field}={bank_dir!r} is a file, not a folder; a bank is a '
            'folder that is replaced as a whole: point it at a new path.')
    entries = os.listdir(bank_dir)
    if entries and META_FILE not in entries:
        raise BankError(
            f'{field}={bank_dir!r} is a folder that holds no bank (no '
            f'{META_FILE}, but {sorted(entries)[:5]}...); building a bank '
            'there would delete them: point it at a new or empty folder.')


def install_bank(partial_dir: str, bank_dir: str) -> None:
    """Atomically put ``partial_dir`` at ``bank_dir``.

    A bank already at ``bank_dir`` is renamed to ``<bank_dir>.old`` first
    and deleted after the new one is in place.

    Args:
        partial_dir (str): The finished build.
        bank_dir (str): Where the bank goes.
    """
    old_dir = bank_dir + OLD_SUFFIX
    remove_path(old_dir)
    if osp.lexists(bank_dir):
        os.rename(bank_dir, old_dir)
    os.rename(partial_dir, bank_dir)
    fsync_dir(osp.dirname(osp.abspath(bank_dir)))
    try:
        remove_path(old_dir)
    except OSError:
        pass  # a leftover ``.old`` is removed by the next install
