# Copyright (c) cgankd_plugin contributors.
"""One array of a bank, read with ``os.pread``: :class:`BankArray`."""
import os
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from .errors import BankCorruptError


class BankArray:
    """One array of a bank, read from its ``.npy`` file with ``os.pread``.

    Indexing with an integer, a slice (or a tuple starting with one) or a
    1-D array of integers reads just those rows, so reading samples does
    not map the file: the memory of a process reading a bank does not grow
    with the bank's size (pages of a memory map touched at random stay in
    the process's RSS). The file descriptor is opened on the first read in
    each process and opened again when the process id changes (forked
    DataLoader workers); it is not pickled.

    ``np.asarray(bank_array)`` (and any other indexing) goes through a
    read-only memory map of the whole file, made afresh for each call and
    released with the returned array: use it for bulk access.

    Rows are returned read-only, as a memory map opened with mode ``'r'``
    returns them; a 1-D array gives numpy scalars.

    Args:
        filename: The ``.npy`` file.
        offset: Where the data starts in the file (after the header).
        dtype: dtype of the elements.
        shape: Shape of the whole array, C order.
    """

    def __init__(self, filename: str, offset: int, dtype: Any,
                 shape: Sequence[int]) -> None:
        self.filename = filename
        self.offset = int(offset)
        self.dtype = np.dtype(dtype)
        self.shape = tuple(int(s) for s in shape)
        self._row_shape = self.shape[1:]
        self._row_bytes = self.dtype.itemsize * int(
            np.prod(self._row_shape, dtype=np.int64))
        self._fd: Optional[int] = None
        self._fd_pid: Optional[int] = None

    @classmethod
    def from_npy(cls, path: str) -> 'BankArray':
        """Open a C-ordered ``.npy`` file; none of its data is read.

        Raises:
            OSError: if the file cannot be read.
            EOFError: if it is empty.
            ValueError: if it is not a ``.npy`` file, holds Python objects
                or Fortran-ordered data, or is shorter than its header
                says.
        """
        mapped = np.load(path, mmap_mode='r', allow_pickle=False)
        if not isinstance(mapped, np.memmap):
            raise ValueError('not a .npy file')
        if mapped.ndim > 1 and not mapped.flags.c_contiguous:
            raise ValueError('the array is stored in Fortran order')
        return cls(path, mapped.offset, mapped.dtype, mapped.shape)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def nbytes(self) -> int:
        """Bytes of data (the file less its header)."""
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({self.filename!r}, '
                f'dtype={self.dtype}, shape={self.shape})')

    def __getitem__(self, key: Any) -> Any:
        rest: Tuple = ()
        if (isinstance(key, tuple) and key
                and isinstance(key[0], (int, np.integer, slice))):
            key, rest = key[0], key[1:]
        if isinstance(key, (bool, np.bool_)):
            rows = None
        elif isinstance(key, (int, np.integer)):
            return self._read_rows(self._check_index(key), 1)[(0, ) + rest]
        elif isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step == 1:
                rows = self._read_rows(start, max(0, stop - start))
            else:
                rows = self._gather(range(start, stop, step))
        else:
            index = np.asarray(key)
            rows = (self._gather(index) if not rest and index.ndim == 1
                    and index.dtype.kind in 'iu' else None)
        if rows is None:  # anything else: through a memory map
            return np.asarray(self)[key if not rest else (key, ) + rest]
        return rows[(slice(None), ) + rest] if rest else rows

    def __array__(self, dtype: Any = None, copy: Optional[bool] = None):
        array = self.memmap().view(np.ndarray)
        if dtype is not None and np.dtype(dtype) != array.dtype:
            if copy is False:
                raise ValueError(f'{self!r} cannot be viewed as {dtype} '
                                 'without a copy')
            return array.astype(dtype)
        return np.array(array) if copy else array

    def memmap(self) -> np.memmap:
        """A new read-only memory map of the whole array.

        The mapping lives as long as the returned array (and the views of
        it); pages touched through it count in the process's RSS.
        """
        return np.memmap(self.filename, dtype=self.dtype, mode='r',
                         offset=self.offset, shape=self.shape)

    def _check_index(self, index: Any) -> int:
        position = int(index)
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(f'index {int(index)} is out of bounds for '
                             f'axis 0 with size {len(self)}')
        return position

    def _descriptor(self) -> int:
        """This process's file descriptor, opened on first use."""
        pid = os.getpid()
        if self._fd is None or self._fd_pid != pid:
            # A descriptor inherited through fork() is left alone: the
            # parent's object owns it.
            self._fd = os.open(self.filename, os.O_RDONLY)
            self._fd_pid = pid
        return self._fd

    def _read_rows(self, start: int, count: int) -> np.ndarray:
        """Rows ``start .. start + count - 1`` as a read-only array."""
        size = count * self._row_bytes
        position = self.offset + start * self._row_bytes
        pieces = []
        while size:
            data = os.pread(self._descriptor(), size, position)
            if not data:
                raise BankCorruptError(
                    f'synthetic bank file {self.filename!r} ended before '
                    f'row {start + count - 1}: it changed since the bank '
                    'was opened.')
            pieces.append(data)
            size -= len(data)
            position += len(data)
        data = pieces[0] if len(pieces) == 1 else b''.join(pieces)
        return np.frombuffer(data, self.dtype).reshape((count, ) +
                                                       self._row_shape)

    def _gather(self, indices: Sequence[int]) -> np.ndarray:
        """The rows at ``indices`` (any order), as a new array."""
        rows = np.empty((len(indices), ) + self._row_shape, self.dtype)
        for k, index in enumerate(indices):
            rows[k] = self._read_rows(self._check_index(index), 1)[0]
        rows.flags.writeable = False
        return rows

    def close(self) -> None:
        """Close this process's file descriptor, if open."""
        fd, self._fd = self._fd, None
        if fd is not None and self._fd_pid == os.getpid():
            os.close(fd)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing left to do
            pass

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_fd=None, _fd_pid=None)
        return state
