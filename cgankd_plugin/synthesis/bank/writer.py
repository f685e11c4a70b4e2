# Copyright (c) cgankd_plugin contributors.
"""The resumable writer of a synthetic bank, :class:`BankWriter`.

A bank is built in a sibling directory ``<bank_dir>.partial``, one
atomically committed chunk per sampling round, so a killed build resumes
where it stopped; :meth:`BankWriter.finalize` concatenates the chunks and
swaps the result into place.
"""
import datetime
import os
import os.path as osp
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ...utils.atomic_io import atomic_write_json, fsync_dir
from ...utils.fault_injection import fault_point
from .errors import BankCorruptError, BankError
from .format import (ARRAY_NAMES, FORMAT_VERSION, META_FILE, PARTIAL_FILE,
                     PARTIAL_SUFFIX, NpyStreamWriter, check_bank_dir,
                     check_layout, chunk_name, install_bank,
                     make_writable_dir, read_json_object, remove_path)
from .reader import SyntheticBank

_RESERVED_META_KEYS = frozenset(
    ('format_version', 'key', 'num_samples', 'image_shape', 'label_dtype',
     'num_soft_classes', 'files', 'settings', 'created', 'num_chunks'))


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
        check_layout(key, num_samples, image_shape, label_dtype,
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
    def chunk_sizes(self) -> List[int]:
        """list[int]: The sample count of each committed chunk, in order.

        A new list on each access. When only the swap into place of a
        killed :meth:`finalize` is left, the chunks are gone and their
        sizes read as 0 (while :attr:`num_committed` is ``num_samples``).
        """
        return list(self._chunk_sizes)

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
                remove_path(self.partial_dir)
            except OSError as exc:
                raise BankError(f'cannot remove the stale partial bank '
                                f'{self.partial_dir!r}: {exc}') from exc
        make_writable_dir(self.partial_dir)
        self._write_partial_record()

    def _try_resume(self) -> bool:
        """Load the partial build's state; False if it cannot be reused."""
        make_writable_dir(self.partial_dir)
        meta = read_json_object(osp.join(self.partial_dir, META_FILE))
        if self._matches_layout(meta):
            # finalize() was killed after writing meta.json: only the
            # swap into place is left to do.
            self._pending_install = True
            self._chunk_sizes = [0] * int(meta.get('num_chunks', 0))
            return True
        record = read_json_object(osp.join(self.partial_dir, PARTIAL_FILE))
        if not self._matches_layout(record):
            return False
        sizes = record.get('chunk_sizes')
        if not isinstance(sizes, list):
            return False
        for index in range(len(sizes)):
            chunk = osp.join(self.partial_dir, chunk_name(index))
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
        path = osp.join(self.partial_dir, chunk_name(index))
        tmp = path + '.tmp'
        try:
            with open(tmp, 'wb') as f:
                np.savez(f, **arrays)
                f.flush()
                os.fsync(f.fileno())
        except OSError as err:  # e.g. the disk is full
            remove_path(tmp)
            raise BankError(
                f'bank: writing {tmp!r} failed ({err}). The {index} chunks '
                f'before it are kept in {self.partial_dir!r}: free space '
                'there (or fix the folder) and run again to resume.') from err
        os.replace(tmp, path)
        fsync_dir(self.partial_dir)

    # ------------------------------------------------------------- finalize
    def finalize(self, meta: Optional[dict] = None) -> SyntheticBank:
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
        install_bank(self.partial_dir, self.bank_dir)
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
            NpyStreamWriter(osp.join(self.partial_dir, name + '.npy'),
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
                    outputs: Mapping[str, NpyStreamWriter]) -> None:
        """Append chunk ``index`` (``size`` samples) to the outputs."""
        chunk = osp.join(self.partial_dir, chunk_name(index))
        with np.load(chunk, allow_pickle=False) as data:
            for name, out in outputs.items():
                values = data[name]
                if len(values) != size:
                    raise BankCorruptError(
                        f'chunk {chunk!r} holds {len(values)} {name}, '
                        f'expected {size}; delete {self.partial_dir!r} to '
                        'rebuild')
                out.write(values)
