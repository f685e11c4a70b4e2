# Copyright (c) cgankd_plugin contributors.
"""The synthetic bank: generation, subsampling, filtering and storage."""
from .bank import (BankCorruptError, BankError, BankNotFoundError,
                   BankStaleError, BankWriter, SyntheticBank)
from .bank_builder import BankBuilder
from .teacher_adapter import TeacherAdapter

__all__ = [
    'BankBuilder', 'BankCorruptError', 'BankError', 'BankNotFoundError',
    'BankStaleError', 'BankWriter', 'SyntheticBank', 'TeacherAdapter'
]
