# Copyright (c) cgankd_plugin contributors.
"""The reader of a finished synthetic bank, :class:`SyntheticBank`.

Opening a bank reads its ``meta.json`` and the ``.npy`` headers (and, with
``verify``, hashes the files); a bank with another key than expected is
refused with a message naming the settings that differ.
"""
import functools
import hashlib
import json
import os.path as osp
from typing import Any, Dict, Mapping, Optional

from ...utils.atomic_io import json_default, read_json
from .array import BankArray
from .errors import BankCorruptError, BankNotFoundError, BankStaleError
from .format import ARRAY_NAMES, BUILD_SUFFIX, META_FILE
from .key import file_sha256

_BUILT_BY = 'Banks are built by CGANHook or tools/build_bank.py.'


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
        meta = read_json(osp.join(bank_dir, META_FILE))
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
        except (OSError, EOFError, ValueError) as exc:
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
        build = path + BUILD_SUFFIX
        note = (f' An unfinished build is at {build!r}.'
                if osp.isdir(build) else '')
        raise BankNotFoundError(
            f'no synthetic bank at {path!r} ({META_FILE} not found).{note} '
            f'{_BUILT_BY}')
    meta = read_json(meta_path)
    if meta is None or 'key' not in meta or 'num_samples' not in meta:
        raise BankCorruptError(
            f'{meta_path!r} is unreadable or incomplete. Delete the '
            f'directory {path!r} to rebuild the bank.')
    return meta


def _stale_message(path: str, meta: Mapping, expected_key: str,
                   expected: Optional[Mapping]) -> str:
    """Explain why the bank at ``path`` is stale.

    The settings whose JSON form differs from ``expected`` are named.
    """
    message = (f'the synthetic bank at {path!r} was built with key '
               f'{meta["key"]!r}, but key {expected_key!r} is expected')
    recorded = meta.get('settings')
    if expected is not None and isinstance(recorded, dict):
        norm = functools.partial(
            json.dumps, sort_keys=True, default=json_default)
        differ = [
            str(name) for name in sorted({*recorded, *expected}, key=str)
            if name not in recorded or name not in expected
            or norm(recorded[name]) != norm(expected[name])
        ]
        if differ:
            message += f'; settings that differ: {", ".join(differ)}'
    return message + (f'. Delete {path!r} (or rebuild) to use the current '
                      'settings.')
