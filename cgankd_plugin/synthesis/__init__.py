# Copyright (c) cgankd_plugin contributors.
"""The synthetic bank: generation, subsampling, filtering and storage."""
from .bank import (BankCorruptError, BankError, BankNotFoundError,
                   BankStaleError, BankWriter, SyntheticBank)
from .builder import (BaseBankBuilder, ClassificationBankBuilder,
                      RegressionBankBuilder, make_bank_builder)
from .teacher_adapter import TeacherAdapter

__all__ = [
    'BankCorruptError', 'BankError', 'BankNotFoundError', 'BankStaleError',
    'BankWriter', 'BaseBankBuilder', 'ClassificationBankBuilder',
    'RegressionBankBuilder', 'SyntheticBank', 'TeacherAdapter',
    'make_bank_builder'
]
