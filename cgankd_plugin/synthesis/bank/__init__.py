# Copyright (c) cgankd_plugin contributors.
"""On-disk storage of the synthetic bank.

A bank is a directory holding ``images.npy`` (uint8, ``(N, C, H, W)``),
``cond_labels.npy`` (the label the cGAN was conditioned on),
``teacher_labels.npy`` (the teacher's relabelling), optionally
``teacher_probs.npy`` (float32 soft labels, ``(N, K)``) and ``meta.json``
(key, shapes, sha256 checksums, settings). Everything is plain ``.npy`` and
JSON: nothing is ever unpickled.

:class:`BankWriter` streams the samples into a sibling directory
``<bank_dir>.partial`` and swaps it into place when the bank is complete;
a reader never sees a half-written bank. :class:`SyntheticBank` opens a
finished bank without reading the images into memory, and reads each
sample with ``os.pread`` (:class:`BankArray`), so a reader's memory does
not grow with the bank's size.

Modules: ``errors`` (the exceptions), ``key`` (the hashing behind a bank's
key), ``format`` (the on-disk format and its file helpers), ``writer``
(:class:`BankWriter`), ``array`` (:class:`BankArray`) and ``reader``
(:class:`SyntheticBank`).
"""
from .array import BankArray
from .errors import (BankCorruptError, BankError, BankNotFoundError,
                     BankStaleError)
from .format import (ARRAY_NAMES, BUILD_SUFFIX, FORMAT_VERSION, LABEL_DTYPES,
                     META_FILE, OLD_SUFFIX, PARTIAL_SUFFIX, check_bank_dir)
from .key import file_sha256, hash_settings, hash_state_dict
from .reader import SyntheticBank
from .writer import BankWriter

__all__ = [
    'ARRAY_NAMES', 'BUILD_SUFFIX', 'BankArray', 'BankCorruptError',
    'BankError', 'BankNotFoundError', 'BankStaleError', 'BankWriter',
    'FORMAT_VERSION', 'LABEL_DTYPES', 'META_FILE', 'OLD_SUFFIX',
    'PARTIAL_SUFFIX', 'SyntheticBank', 'check_bank_dir', 'file_sha256',
    'hash_settings', 'hash_state_dict'
]
