# Copyright (c) cgankd_plugin contributors.
"""On-disk storage of the synthetic bank.

A bank is a directory holding ``images.npy`` (uint8, ``(N, C, H, W)``),
``cond_labels.npy`` (the label the cGAN was conditioned on),
``teacher_labels.npy`` (the teacher's relabelling), optionally
``teacher_probs.npy`` (float32 soft labels, ``(N, K)``) and ``meta.json``
(key, shapes, sha256 checksums, settings). Everything is plain ``.npy`` and
JSON: nothing is ever unpickled.

A bank is built by :class:`BankWriter` in a sibling directory
``<bank_dir>.partial``, one atomically committed chunk per sampling round,
so a killed build resumes where it stopped. :meth:`BankWriter.finalize`
concatenates the chunks and swaps the result into place; a reader never
sees a half-written bank. :class:`SyntheticBank` opens a finished bank
without reading the images into memory, and reads each sample with
``os.pread`` (:class:`BankArray`), so a reader's memory does not grow
with the bank's size.
"""
import datetime
import hashlib
import io
import json
import os
import os.path as osp
import shutil
from typing import (TYPE_CHECKING, Any, Dict, List, Mapping, Optional,
                    Sequence, Tuple)

import numpy as np

from ..utils.atomic_io import atomic_write_json, fsync_dir, json_default
from ..utils.fault_injection import fault_point

if TYPE_CHECKING:  # pragma: no cover
    import torch

FORMAT_VERSION = 1
META_FILE = 'meta.json'
PARTIAL_FILE = 'partial.json'
PARTIAL_SUFFIX = '.partial'
OLD_SUFFIX = '.old'
ARRAY_NAMES = ('images', 'cond_labels', 'teacher_labels', 'teacher_probs')
LABEL_DTYPES = ('int64', 'float32')
_HASH_BLOCK = 1 << 20
_BUILT_BY = 'Banks are built by CGANHook or tools/build_bank.py.'
_RESERVED_META_KEYS = frozenset(
    ('format_version', 'key', 'num_samples', 'image_shape', 'label_dtype',
     'num_soft_classes', 'files', 'settings', 'created', 'num_chunks'))


class BankError(RuntimeError):
    """Base class of every synthetic-bank error."""


class BankNotFoundError(BankError):
    """There is no complete bank at the given path."""


class BankCorruptError(BankError):
    """A bank file does not match the checksum or shape in its meta."""


class BankStaleError(BankError):
    """The bank was built with a different key than expected."""


# --------------------------------------------------------------------------
# hashing helpers
# --------------------------------------------------------------------------
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
    """Return the sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    buffer = memoryview(bytearray(_HASH_BLOCK))
    with open(path, 'rb', buffering=0) as f:
        while True:
            size = f.readinto(buffer)
            if not size:
                break
            digest.update(buffer[:size])
    return digest.hexdigest()


# --------------------------------------------------------------------------
# small file-system helpers
# --------------------------------------------------------------------------
def _read_json(path: str) -> Optional[dict]:
    """Return the parsed JSON object at ``path`` or None if unreadable."""
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _remove_path(path: str) -> None:
    """Delete a file or a directory tree if it exists."""
    if osp.isdir(path) and not osp.islink(path):
        shutil.rmtree(path)
    elif osp.lexists(path):
        os.remove(path)


def _make_writable_dir(path: str) -> None:
    """Create ``path`` (and parents) and check it is writable.

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
    if not os.access(path, os.W_OK | os.X_OK):
        raise BankError(
            f'the synthetic bank directory {path!r} is not writable. '
            'Point the bank to a writable location.')


def _chunk_name(index: int) -> str:
    return f'chunk_{index:06d}.npz'


# --------------------------------------------------------------------------
# writer
# --------------------------------------------------------------------------
class BankWriter:
    """Builds a bank chunk by chunk in ``<bank_dir>.partial``.

    If the partial directory holds a build with the same key (and layout),
    it is resumed: :attr:`num_chunks` and :attr:`num_committed` reflect the
    chunks already on disk. Otherwise it is wiped and the build starts
    afresh.

    Args:
        bank_dir: Where the finished bank will live.
        key: Identity of the build (e.g. a hash of the generator, teacher
            and sampling settings). A bank/partial build with another key
            is stale.
        num_samples: Exact number of samples of the finished bank.
        image_shape: ``(C, H, W)`` of every image.
        label_dtype: dtype of the conditioning and teacher labels:
            ``'int64'`` (classes) or ``'float32'`` (regression values).
        num_soft_classes: ``K`` if teacher probabilities ``(n, K)`` are
            stored, else None.
        settings: JSON-able settings recorded in ``meta.json`` (used to
            explain a stale bank).

    Raises:
        ValueError: on invalid arguments.
        BankError: if the partial directory cannot be created or written.
    """

    def __init__(self,
                 bank_dir: str,
                 key: str,
                 num_samples: int,
                 image_shape: Tuple[int, int, int],
                 label_dtype: str = 'int64',
                 num_soft_classes: Optional[int] = None,
                 settings: Optional[dict] = None) -> None:
        _check_layout(key, num_samples, image_shape, label_dtype,
                      num_soft_classes)
        check_bank_dir(bank_dir)
        self.bank_dir = osp.normpath(bank_dir)
        self.partial_dir = self.bank_dir + PARTIAL_SUFFIX
        self.key = key
        self.num_samples = int(num_samples)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.label_dtype = np.dtype(label_dtype)
        self.num_soft_classes = (None if num_soft_classes is None else
                                 int(num_soft_classes))
        self.settings = dict(settings or {})
        self._chunk_sizes: List[int] = []
        self._pending_install = False
        self._finalized = False
        self.resumed = False
        self._open_partial()

    # ---------------------------------------------------------------- state
    @property
    def num_chunks(self) -> int:
        """Number of committed chunks (sampling rounds), empty ones too."""
        return len(self._chunk_sizes)

    @property
    def num_committed(self) -> int:
        """Number of accepted samples already committed to disk."""
        if self._pending_install:
            return self.num_samples
        return sum(self._chunk_sizes)

    @property
    def is_full(self) -> bool:
        """Whether ``num_samples`` samples have been committed."""
        return self.num_committed >= self.num_samples

    def _layout(self) -> Dict[str, Any]:
        return dict(key=self.key,
                    num_samples=self.num_samples,
                    image_shape=list(self.image_shape),
                    label_dtype=self.label_dtype.name,
                    num_soft_classes=self.num_soft_classes)

    def _matches_layout(self, record: Optional[Mapping]) -> bool:
        if record is None:
            return False
        return all(record.get(k) == v for k, v in self._layout().items())

    def _open_partial(self) -> None:
        """Resume the partial build if it matches, else start afresh."""
        if osp.isdir(self.partial_dir) and self._try_resume():
            self.resumed = True
            return
        if osp.lexists(self.partial_dir):
            try:
                _remove_path(self.partial_dir)
            except OSError as exc:
                raise BankError(f'cannot remove the stale partial bank '
                                f'{self.partial_dir!r}: {exc}') from exc
        _make_writable_dir(self.partial_dir)
        self._write_partial_record()

    def _try_resume(self) -> bool:
        """Load the partial build's state; False if it cannot be reused."""
        _make_writable_dir(self.partial_dir)
        meta = _read_json(osp.join(self.partial_dir, META_FILE))
        if self._matches_layout(meta):
            # finalize() was killed after writing meta.json: only the
            # swap into place is left to do.
            self._pending_install = True
            self._chunk_sizes = [0] * int(meta.get('num_chunks', 0))
            return True
        record = _read_json(osp.join(self.partial_dir, PARTIAL_FILE))
        if not self._matches_layout(record):
            return False
        sizes = record.get('chunk_sizes')
        if not isinstance(sizes, list):
            return False
        for index in range(len(sizes)):
            chunk = osp.join(self.partial_dir, _chunk_name(index))
            if not osp.isfile(chunk):
                return False
        self._chunk_sizes = [int(s) for s in sizes]
        return True

    def _write_partial_record(self) -> None:
        record = self._layout()
        record.update(settings=self.settings, chunk_sizes=self._chunk_sizes)
        atomic_write_json(osp.join(self.partial_dir, PARTIAL_FILE), record)

    # --------------------------------------------------------------- append
    def append_chunk(self,
                     images: np.ndarray,
                     cond_labels: np.ndarray,
                     teacher_labels: np.ndarray,
                     teacher_probs: Optional[np.ndarray] = None) -> None:
        """Commit one sampling round's accepted samples atomically.

        A chunk may hold 0 samples: it still counts as a round, so a resumed
        build seeding round ``i`` from ``(seed, i)`` stays deterministic.
        Samples beyond ``num_samples`` are dropped.

        Args:
            images: uint8 ``(n, C, H, W)``.
            cond_labels: ``(n,)`` labels the cGAN was conditioned on.
            teacher_labels: ``(n,)`` teacher labels (int64 class or float32
                value, according to ``label_dtype``).
            teacher_probs: float ``(n, K)``; required iff
                ``num_soft_classes`` was given.

        Raises:
            ValueError: naming the argument with a wrong shape or dtype.
            BankError: if the writer was already finalized.
        """
        if self._finalized or self._pending_install:
            raise BankError(f'the bank at {self.bank_dir!r} is already '
                            'finalized; no more chunks can be appended.')
        arrays = self._validate_chunk(images, cond_labels, teacher_labels,
                                      teacher_probs)
        keep = max(
            0, min(len(arrays['images']),
                   self.num_samples - self.num_committed))
        arrays = {name: arr[:keep] for name, arr in arrays.items()}
        self._write_chunk(self.num_chunks, arrays)
        self._chunk_sizes.append(keep)
        self._write_partial_record()
        fault_point('bank.chunk')

    def _validate_chunk(
            self, images: np.ndarray, cond_labels: np.ndarray,
            teacher_labels: np.ndarray,
            teacher_probs: Optional[np.ndarray]) -> Dict[str, np.ndarray]:
        """Check and convert a chunk's arrays; return them by name."""
        images = np.asarray(images)
        if images.dtype != np.uint8:
            raise ValueError(f'images must be uint8, got dtype {images.dtype}')
        if images.ndim != 4 or images.shape[1:] != self.image_shape:
            raise ValueError(f'images must have shape (n, *{self.image_shape})'
                             f', got {images.shape}')
        n = images.shape[0]
        arrays = dict(images=images,
                      cond_labels=self._as_labels('cond_labels', cond_labels,
                                                  n),
                      teacher_labels=self._as_labels('teacher_labels',
                                                     teacher_labels, n))
        probs = self._as_probs(teacher_probs, n)
        if probs is not None:
            arrays['teacher_probs'] = probs
        return arrays

    def _as_labels(self, name: str, labels: np.ndarray, n: int) -> np.ndarray:
        labels = np.asarray(labels)
        if labels.shape != (n, ):
            raise ValueError(
                f'{name} must have shape ({n},), got {labels.shape}')
        if not np.can_cast(labels.dtype, self.label_dtype, 'same_kind'):
            raise ValueError(f'{name} has dtype {labels.dtype}, which cannot '
                             f'be stored as {self.label_dtype}')
        return labels.astype(self.label_dtype, copy=False)

    def _as_probs(self, probs: Optional[np.ndarray],
                  n: int) -> Optional[np.ndarray]:
        k = self.num_soft_classes
        if probs is None:
            if k is not None:
                raise ValueError(
                    f'teacher_probs of shape ({n}, {k}) is required: the '
                    f'writer was created with num_soft_classes={k}')
            return None
        if k is None:
            raise ValueError('teacher_probs was given but the writer was '
                             'created with num_soft_classes=None')
        probs = np.asarray(probs)
        if probs.shape != (n, k):
            raise ValueError(f'teacher_probs must have shape ({n}, {k}), '
                             f'got {probs.shape}')
        if not np.issubdtype(probs.dtype, np.floating):
            raise ValueError(f'teacher_probs must be floating point, got '
                             f'dtype {probs.dtype}')
        return probs.astype(np.float32, copy=False)

    def _write_chunk(self, index: int, arrays: Mapping[str,
                                                       np.ndarray]) -> None:
        """Write chunk ``index`` through a temp file, fsync and replace."""
        path = osp.join(self.partial_dir, _chunk_name(index))
        tmp = path + '.tmp'
        try:
            with open(tmp, 'wb') as f:
                np.savez(f, **arrays)
                f.flush()
                os.fsync(f.fileno())
        except OSError as err:  # e.g. the disk is full
            _remove_path(tmp)
            raise BankError(
                f'bank: writing {tmp!r} failed ({err}). The {index} chunks '
                f'before it are kept in {self.partial_dir!r}: free space '
                'there (or fix the folder) and run again to resume.') from err
        os.replace(tmp, path)
        fsync_dir(self.partial_dir)

    # ------------------------------------------------------------- finalize
    def finalize(self, meta: Optional[dict] = None) -> 'SyntheticBank':
        """Assemble the chunks into the bank and swap it into place.

        Arrays are streamed chunk by chunk into the ``.npy`` files (plain
        appends, hashed as they are written), so memory does not grow with
        the bank. An existing (stale) bank at ``bank_dir`` stays readable
        until the final rename.

        Args:
            meta: Extra JSON-able entries for ``meta.json``; they may not
                override the writer's own entries (e.g. ``key``).

        Returns:
            The finished bank, opened (its checksums were just computed).

        Raises:
            BankError: if fewer than ``num_samples`` samples are committed.
            ValueError: if ``meta`` uses a reserved key.
        """
        if self._finalized:
            raise BankError(f'the bank at {self.bank_dir!r} was already '
                            'finalized')
        if not self.is_full:
            raise BankError(
                f'cannot finalize the bank at {self.bank_dir!r}: only '
                f'{self.num_committed}/{self.num_samples} samples are '
                'committed')
        if self._pending_install:
            # left by a killed finalize(): check it before putting it live
            SyntheticBank.open(self.partial_dir, self.key, verify=True)
        else:
            self._assemble(meta or {})
        self._remove_build_files()
        _install(self.partial_dir, self.bank_dir)
        self._finalized = True
        self._pending_install = False
        return SyntheticBank.open(self.bank_dir, self.key, verify=False)

    def _assemble(self, extra_meta: Mapping) -> None:
        """Write the ``.npy`` files and ``meta.json``; drop the chunks."""
        clash = _RESERVED_META_KEYS.intersection(extra_meta)
        if clash:
            raise ValueError(f'meta may not override {sorted(clash)}')
        names = self._array_names()
        checksums = self._concatenate_chunks(names)
        files = {
            name:
            dict(sha256=checksums[name],
                 shape=list(self._array_shape(name)),
                 dtype=self._array_dtype(name).name)
            for name in names
        }
        record = self._layout()
        record.update(format_version=FORMAT_VERSION,
                      files=files,
                      settings=self.settings,
                      num_chunks=self.num_chunks,
                      created=datetime.datetime.now().astimezone().isoformat())
        record.update(extra_meta)
        atomic_write_json(osp.join(self.partial_dir, META_FILE), record)

    def _remove_build_files(self) -> None:
        """Delete chunks, temp files and ``partial.json`` of the build."""
        for name in os.listdir(self.partial_dir):
            if (name.startswith('chunk_') or name.endswith('.tmp')
                    or name == PARTIAL_FILE):
                os.remove(osp.join(self.partial_dir, name))
        fsync_dir(self.partial_dir)

    def _array_names(self) -> List[str]:
        names = list(ARRAY_NAMES[:3])
        if self.num_soft_classes is not None:
            names.append('teacher_probs')
        return names

    def _array_shape(self, name: str) -> Tuple[int, ...]:
        if name == 'images':
            return (self.num_samples, ) + self.image_shape
        if name == 'teacher_probs':
            return (self.num_samples, self.num_soft_classes)
        return (self.num_samples, )

    def _array_dtype(self, name: str) -> np.dtype:
        if name == 'images':
            return np.dtype(np.uint8)
        if name == 'teacher_probs':
            return np.dtype(np.float32)
        return self.label_dtype

    def _concatenate_chunks(self, names: Sequence[str]) -> Dict[str, str]:
        """Stream the chunks, in order, into one ``.npy`` per array.

        Returns:
            The sha256 of each written file, by array name.
        """
        outputs = {
            name:
            _NpyStreamWriter(osp.join(self.partial_dir, name + '.npy'),
                             self._array_dtype(name), self._array_shape(name))
            for name in names
        }
        try:
            for index, size in enumerate(self._chunk_sizes):
                if size:
                    self._copy_chunk(index, size, outputs)
            return {name: out.close() for name, out in outputs.items()}
        finally:
            for out in outputs.values():
                out.abort()

    def _copy_chunk(self, index: int, size: int,
                    outputs: Mapping[str, '_NpyStreamWriter']) -> None:
        """Append chunk ``index`` (``size`` samples) to the outputs."""
        chunk = osp.join(self.partial_dir, _chunk_name(index))
        with np.load(chunk, allow_pickle=False) as data:
            for name, out in outputs.items():
                values = data[name]
                if len(values) != size:
                    raise BankCorruptError(
                        f'chunk {chunk!r} holds {len(values)} {name}, '
                        f'expected {size}; delete {self.partial_dir!r} to '
                        'rebuild')
                out.write(values)


class _NpyStreamWriter:
    """Writes one ``.npy`` file piece by piece, hashing it on the way.

    Only the piece being written is ever in memory; the file is byte for
    byte what ``np.save`` writes for the whole array.
    """

    def __init__(self, path: str, dtype: np.dtype, shape: Tuple[int,
                                                                ...]) -> None:
        self.path = path
        self.dtype = np.dtype(dtype)
        self.row_shape = tuple(shape[1:])
        self.rows_left = shape[0]
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
        if values.shape[1:] != self.row_shape or len(values) > self.rows_left:
            raise BankCorruptError(
                f'cannot append {values.shape} to {self.path!r}')
        rows = np.ascontiguousarray(values, dtype=self.dtype)
        self._write_bytes(rows.reshape(-1).view(np.uint8).data)
        self.rows_left -= len(rows)

    def close(self) -> str:
        """Flush and fsync the file; return its sha256."""
        if self.rows_left:
            raise BankCorruptError(f'{self.path!r} is missing '
                                   f'{self.rows_left} rows')
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        return self.digest.hexdigest()

    def abort(self) -> None:
        """Close the file if still open (after an error)."""
        if not self.file.closed:
            self.file.close()


def _check_layout(key: str, num_samples: int, image_shape: Sequence[int],
                  label_dtype: str, num_soft_classes: Optional[int]) -> None:
    """Validate the writer's constructor arguments."""
    if not isinstance(key, str) or not key:
        raise ValueError(f'key must be a non-empty string, got {key!r}')
    if int(num_samples) != num_samples or num_samples <= 0:
        raise ValueError(
            f'num_samples must be a positive integer, got {num_samples!r}')
    if len(image_shape) != 3 or any(int(s) <= 0 for s in image_shape):
        raise ValueError(
            f'image_shape must be (C, H, W) > 0, got {image_shape!r}')
    if np.dtype(label_dtype).name not in LABEL_DTYPES:
        raise ValueError(f'label_dtype must be one of {LABEL_DTYPES}, got '
                         f'{label_dtype!r}')
    if num_soft_classes is not None and int(num_soft_classes) <= 0:
        raise ValueError(f'num_soft_classes must be positive or None, got '
                         f'{num_soft_classes!r}')


def check_bank_dir(bank_dir: str, field: str = 'bank_dir') -> None:
    """Refuse a ``bank_dir`` whose replacement would destroy user data.

    Installing a bank renames what is at ``bank_dir`` away and deletes it,
    so the path must be absent, an empty folder, or a folder holding a
    bank (``meta.json``).

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


def _install(partial_dir: str, bank_dir: str) -> None:
    """Atomically put ``partial_dir`` at ``bank_dir``.

    A bank already at ``bank_dir`` is renamed to ``<bank_dir>.old`` first
    and deleted after the new one is in place.
    """
    old_dir = bank_dir + OLD_SUFFIX
    _remove_path(old_dir)
    if osp.lexists(bank_dir):
        os.rename(bank_dir, old_dir)
    os.rename(partial_dir, bank_dir)
    fsync_dir(osp.dirname(osp.abspath(bank_dir)))
    try:
        _remove_path(old_dir)
    except OSError:
        pass  # a leftover ``.old`` is removed by the next install


# --------------------------------------------------------------------------
# reader
# --------------------------------------------------------------------------
def _read_npy_header(path: str) -> Tuple[Tuple[int, ...], np.dtype, int]:
    """Shape, dtype and data offset of a C-ordered ``.npy`` file.

    Raises:
        OSError: if the file cannot be read.
        ValueError: if it is not a ``.npy`` file, holds Python objects or
            Fortran-ordered data, or is shorter than its header says.
    """
    with open(path, 'rb') as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            header = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            header = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f'unsupported .npy format version {version}')
        shape, fortran_order, dtype = header
        offset = f.tell()
        size = os.fstat(f.fileno()).st_size
    if dtype.hasobject:
        raise ValueError('the array holds Python objects')
    if fortran_order and len(shape) > 1:
        raise ValueError('the array is stored in Fortran order')
    needed = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if size < needed:
        raise ValueError(f'the file holds {size} bytes, its header needs '
                         f'{needed}')
    return tuple(shape), dtype, offset


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
        """Open a C-ordered ``.npy`` file; only its header is read.

        Raises:
            OSError: if the file cannot be read.
            ValueError: if it is not a usable ``.npy`` file (see
                :func:`_read_npy_header`).
        """
        shape, dtype, offset = _read_npy_header(path)
        return cls(path, offset, dtype, shape)

    # ------------------------------------------------------- array facts
    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        """Bytes of data (the file less its header)."""
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({self.filename!r}, '
                f'dtype={self.dtype}, shape={self.shape})')

    # ------------------------------------------------------------ reading
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

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

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

    # --------------------------------------------------------- lifetime
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


class SyntheticBank:
    """A finished bank (read-only); its arrays are read with ``os.pread``.

    Use :meth:`open` rather than the constructor. Opening reads only the
    ``.npy`` headers (and, with ``verify``, hashes the files); reading a
    sample reads just that sample's bytes (see :class:`BankArray`), so the
    memory of a reader does not grow with the bank's size.

    Attributes:
        path: The bank directory.
        meta: Contents of ``meta.json``.
        key: The key the bank was built with.
        images: uint8 ``(N, C, H, W)`` :class:`BankArray`.
        cond_labels: ``(N,)`` :class:`BankArray` of the conditioning labels.
        teacher_labels: ``(N,)`` :class:`BankArray` of the teacher labels.
        teacher_probs: ``(N, K)`` float32 :class:`BankArray`, or None if not
            stored.
    """

    def __init__(self, path: str, meta: Dict[str, Any]) -> None:
        self.path = path
        self.meta = meta
        self.key: str = meta['key']
        self.images: BankArray
        self.cond_labels: BankArray
        self.teacher_labels: BankArray
        self.teacher_probs: Optional[BankArray] = None
        self._open_arrays()

    @classmethod
    def open(cls,
             bank_dir: str,
             expected_key: Optional[str] = None,
             verify: bool = True,
             expected_settings: Optional[Mapping] = None) -> 'SyntheticBank':
        """Open the bank at ``bank_dir``.

        Args:
            bank_dir: The bank directory.
            expected_key: If given, the key the bank must have.
            verify: Recompute and check every file's sha256.
            expected_settings: The settings the caller would build with;
                only used to say which settings differ in a
                :class:`BankStaleError`.

        Raises:
            BankNotFoundError: if there is no finished bank at ``bank_dir``.
            BankStaleError: if the bank's key differs from ``expected_key``.
            BankCorruptError: if a file is missing or its shape, dtype or
                (with ``verify``) checksum differs from ``meta.json``.
        """
        path = osp.normpath(bank_dir)
        meta = _load_meta(path)
        if expected_key is not None and meta['key'] != expected_key:
            raise BankStaleError(
                _stale_message(path, meta, expected_key, expected_settings))
        bank = cls(path, meta)
        if verify:
            bank.verify()
        return bank

    @staticmethod
    def is_complete(bank_dir: str, key: Optional[str] = None) -> bool:
        """Whether a finished bank (with ``key``, if given) is at the path.

        Only ``meta.json`` is read; checksums are not verified.
        """
        meta = _read_json(osp.join(bank_dir, META_FILE))
        if meta is None or 'key' not in meta:
            return False
        return key is None or meta['key'] == key

    def verify(self) -> None:
        """Recompute every file's sha256 and compare it with ``meta.json``.

        Raises:
            BankCorruptError: naming the file and both checksums.
        """
        for name, info in self.meta['files'].items():
            path = osp.join(self.path, name + '.npy')
            actual = file_sha256(path)
            if actual != info['sha256']:
                raise BankCorruptError(
                    f'synthetic bank file {path!r} is corrupt: expected '
                    f'sha256 {info["sha256"]}, got {actual}. Delete the '
                    f'directory {self.path!r} to rebuild the bank.')

    def content_hash(self) -> str:
        """sha256 over the recorded file checksums, in a fixed order.

        Banks holding identical arrays have the same content hash, whatever
        their key, settings or creation time.
        """
        digest = hashlib.sha256()
        files = self.meta['files']
        for name in ARRAY_NAMES:
            if name in files:
                digest.update(f'{name}:{files[name]["sha256"]}\n'.encode())
        return digest.hexdigest()

    def __len__(self) -> int:
        return int(self.meta['num_samples'])

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(path={self.path!r}, '
                f'num_samples={len(self)}, key={self.key!r})')

    def close(self) -> None:
        """Close the file descriptors this process opened for reading.

        The bank stays usable: the next read opens them again.
        """
        for name in ARRAY_NAMES:
            array = getattr(self, name, None)
            if array is not None:
                array.close()

    # Pickling (e.g. to spawned DataLoader workers) sends the path and meta
    # only: the copy reads the headers again and opens its own descriptors.
    def __getstate__(self) -> Dict[str, Any]:
        return dict(path=self.path, meta=self.meta)

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__init__(state['path'], state['meta'])

    def _open_arrays(self) -> None:
        files = self.meta.get('files')
        if not isinstance(files, dict) or not set(
                ARRAY_NAMES[:3]) <= set(files):
            raise BankCorruptError(
                f'{osp.join(self.path, META_FILE)!r} does not list the bank '
                f'files; delete the directory {self.path!r} to rebuild.')
        for name in ARRAY_NAMES:
            if name in files:
                setattr(self, name, self._open_array(name, files[name]))

    def _open_array(self, name: str, info: Mapping) -> BankArray:
        """Read one ``.npy`` header and check it against ``meta``."""
        path = osp.join(self.path, name + '.npy')
        hint = f'Delete the directory {self.path!r} to rebuild the bank.'
        try:
            array = BankArray.from_npy(path)
        except (OSError, ValueError) as exc:
            raise BankCorruptError(
                f'cannot read synthetic bank file {path!r}: {exc}. {hint}'
            ) from exc
        expected_shape = tuple(info['shape'])
        if (array.shape != expected_shape or array.dtype.name != info['dtype']
                or array.shape[0] != len(self)):
            raise BankCorruptError(
                f'synthetic bank file {path!r} holds {array.dtype} '
                f'{array.shape}, expected {info["dtype"]} {expected_shape} '
                f'with {len(self)} samples. {hint}')
        return array


def _load_meta(path: str) -> Dict[str, Any]:
    """Read ``meta.json`` of the bank at ``path``."""
    meta_path = osp.join(path, META_FILE)
    if not osp.isfile(meta_path):
        partial = path + PARTIAL_SUFFIX
        note = (f' An unfinished build is at {partial!r}.'
                if osp.isdir(partial) else '')
        raise BankNotFoundError(
            f'no synthetic bank at {path!r} ({META_FILE} not found).{note} '
            f'{_BUILT_BY}')
    meta = _read_json(meta_path)
    if meta is None or 'key' not in meta or 'num_samples' not in meta:
        raise BankCorruptError(
            f'{meta_path!r} is unreadable or incomplete. Delete the '
            f'directory {path!r} to rebuild the bank.')
    return meta


def _stale_message(path: str, meta: Mapping, expected_key: str,
                   expected_settings: Optional[Mapping]) -> str:
    """Explain why the bank at ``path`` is stale."""
    message = (f'the synthetic bank at {path!r} was built with key '
               f'{meta["key"]!r}, but key {expected_key!r} is expected')
    recorded = meta.get('settings')
    if expected_settings is not None and isinstance(recorded, dict):
        differ = _differing_settings(recorded, expected_settings)
        if differ:
            message += f'; settings that differ: {", ".join(differ)}'
    return message + (f'. Delete {path!r} (or rebuild) to use the current '
                      'settings.')


def _differing_settings(recorded: Mapping, expected: Mapping) -> List[str]:
    """Names of the settings whose JSON form differs between the two."""

    def norm(value: Any) -> str:
        return json.dumps(value, sort_keys=True, default=json_default)

    names = sorted(set(recorded) | set(expected), key=str)
    return [
        str(name) for name in names if name not in recorded
        or name not in expected or norm(recorded[name]) != norm(expected[name])
    ]
