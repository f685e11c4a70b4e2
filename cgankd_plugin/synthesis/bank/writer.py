# Copyright (c) cgankd_plugin contributors.
"""The writer of a synthetic bank, :class:`BankWriter`.

The samples are streamed, block by block, into the ``.npy`` files of a
sibling directory ``<bank_dir>.partial`` (hashed as they are written);
:meth:`BankWriter.finalize` writes ``meta.json`` and swaps the directory
into place, so a reader never sees a half-written bank. A writer is not
resumable: a new one wipes what a killed one left (a bank build resumes
from its per-condition shards instead, see ``synthesis.builder``).
"""
import datetime
import os.path as osp
from typing import Dict, Mapping, Optional, Tuple

import numpy as np

from ...utils.atomic_io import atomic_write_json
from .errors import BankError
from .format import (ARRAY_NAMES, FORMAT_VERSION, LABEL_DTYPES, META_FILE,
                     PARTIAL_SUFFIX, NpyStreamWriter, check_bank_dir,
                     install_bank, make_writable_dir, remove_path)
from .reader import SyntheticBank


class BankWriter:
    """Writes a bank of ``num_samples`` samples, appended block by block.

    Args:
        bank_dir (str): Where the finished bank will live.
        key (str): Identity of the bank (e.g. a hash of the generator,
            teacher and sampling settings); a reader expecting another key
            refuses the bank as stale.
        num_samples (int): Exact number of samples of the finished bank.
        image_shape (tuple[int, int, int]): ``(C, H, W)`` of every image.
        label_dtype (str): dtype of the conditioning and teacher labels:
            ``'int64'`` (classes) or ``'float32'`` (regression values).
        num_soft_classes (int, optional): ``K`` if teacher probabilities
            ``(n, K)`` are stored, else None.
        settings (dict, optional): JSON-able settings recorded in
            ``meta.json`` (used to explain a stale bank).

    Raises:
        ValueError: on an unsupported ``label_dtype``.
        BankError: if ``bank_dir`` holds other data, or the partial
            directory cannot be created or written.
    """

    def __init__(self,
                 bank_dir: str,
                 key: str,
                 num_samples: int,
                 image_shape: Tuple[int, int, int],
                 label_dtype: str = 'int64',
                 num_soft_classes: Optional[int] = None,
                 settings: Optional[dict] = None) -> None:
        if np.dtype(label_dtype).name not in LABEL_DTYPES:
            raise ValueError(f'label_dtype must be one of {LABEL_DTYPES}, '
                             f'got {label_dtype!r}')
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
        self.num_committed = 0
        self._finalized = False
        remove_path(self.partial_dir)  # what a killed writer left
        make_writable_dir(self.partial_dir)
        # dtype and shape of each file
        self._layout = dict(
            images=(np.dtype(np.uint8),
                    (self.num_samples, ) + self.image_shape),
            cond_labels=(self.label_dtype, (self.num_samples, )),
            teacher_labels=(self.label_dtype, (self.num_samples, )))
        if self.num_soft_classes is not None:
            self._layout['teacher_probs'] = (np.dtype(np.float32),
                                             (self.num_samples,
                                              self.num_soft_classes))
        self._outputs = {
            name: NpyStreamWriter(
                osp.join(self.partial_dir, name + '.npy'), dtype, shape)
            for name, (dtype, shape) in self._layout.items()
        }

    @property
    def is_full(self) -> bool:
        """bool: Whether ``num_samples`` samples have been appended."""
        return self.num_committed >= self.num_samples

    # --------------------------------------------------------------- append
    def append_chunk(self,
                     images: np.ndarray,
                     cond_labels: np.ndarray,
                     teacher_labels: np.ndarray,
                     teacher_probs: Optional[np.ndarray] = None) -> None:
        """Append samples to the bank's files.

        Samples beyond ``num_samples`` are dropped.

        Args:
            images (np.ndarray): uint8 ``(n, C, H, W)``.
            cond_labels (np.ndarray): ``(n,)`` labels the cGAN was
                conditioned on.
            teacher_labels (np.ndarray): ``(n,)`` teacher labels (int64
                class or float32 value, according to ``label_dtype``).
            teacher_probs (np.ndarray, optional): float ``(n, K)``;
                required iff ``num_soft_classes`` was given.

        Raises:
            ValueError: naming the argument with a wrong shape or dtype.
            BankError: if the writer was already finalized.
        """
        if self._finalized:
            raise BankError(f'the bank at {self.bank_dir!r} is already '
                            'finalized; no more samples can be appended.')
        arrays = self._validate_chunk(images, cond_labels, teacher_labels,
                                      teacher_probs)
        keep = max(
            0, min(len(arrays['images']),
                   self.num_samples - self.num_committed))
        for name, out in self._outputs.items():
            out.write(arrays[name][:keep])
        self.num_committed += keep

    def _validate_chunk(
            self, images: np.ndarray, cond_labels: np.ndarray,
            teacher_labels: np.ndarray,
            teacher_probs: Optional[np.ndarray]) -> Dict[str, np.ndarray]:
        """Check and convert the arrays of a block; return them by name."""
        given = dict(images=images, cond_labels=cond_labels,
                     teacher_labels=teacher_labels,
                     teacher_probs=teacher_probs)
        n = len(images)
        arrays = {}
        for name in ARRAY_NAMES:
            value = given[name]
            if (value is None) != (name not in self._layout):
                raise ValueError(
                    f'{name} must be given iff the writer was created with '
                    f'num_soft_classes (it is {self.num_soft_classes})')
            if value is None:
                continue
            dtype, (_, *row) = self._layout[name]
            value, shape = np.asarray(value), (n, *row)
            # images must be uint8 already: a cast would wrap their values
            cast = (value.dtype == dtype if name == 'images' else
                    np.can_cast(value.dtype, dtype, 'same_kind'))
            if value.shape != shape or not cast:
                raise ValueError(f'{name} must be {dtype} of shape {shape}, '
                                 f'got {value.dtype} {value.shape}')
            arrays[name] = value.astype(dtype, copy=False)
        return arrays

    # ------------------------------------------------------------- finalize
    def finalize(self, meta: Optional[Mapping] = None) -> SyntheticBank:
        """Close the files, write ``meta.json``, swap the bank into place.

        An existing (stale) bank at ``bank_dir`` stays readable until the
        final rename.

        Args:
            meta (Mapping, optional): Extra JSON-able entries for
                ``meta.json``; the writer's own entries (e.g. ``key``)
                take precedence over them.

        Returns:
            SyntheticBank: The finished bank, opened.

        Raises:
            BankError: if fewer than ``num_samples`` samples were appended,
                or the writer was already finalized.
        """
        if self._finalized:
            raise BankError(f'the bank at {self.bank_dir!r} was already '
                            'finalized')
        if not self.is_full:
            raise BankError(
                f'cannot finalize the bank at {self.bank_dir!r}: only '
                f'{self.num_committed}/{self.num_samples} samples are '
                'appended')
        files = {
            name: dict(sha256=out.close(),
                       shape=list(self._layout[name][1]),
                       dtype=self._layout[name][0].name)
            for name, out in self._outputs.items()
        }
        record = dict(
            meta or {},
            key=self.key,
            num_samples=self.num_samples,
            image_shape=list(self.image_shape),
            label_dtype=self.label_dtype.name,
            num_soft_classes=self.num_soft_classes,
            format_version=FORMAT_VERSION,
            files=files,
            settings=self.settings,
            created=datetime.datetime.now().astimezone().isoformat())
        atomic_write_json(osp.join(self.partial_dir, META_FILE), record)
        install_bank(self.partial_dir, self.bank_dir)
        self._finalized = True
        return SyntheticBank.open(self.bank_dir, self.key, verify=False)
