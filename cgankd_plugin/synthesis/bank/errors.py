# Copyright (c) cgankd_plugin contributors.
"""The errors a synthetic bank raises; all derive from :class:`BankError`."""


class BankError(RuntimeError):
    """Base class of every synthetic-bank error."""


class BankNotFoundError(BankError):
    """There is no complete bank at the given path."""


class BankCorruptError(BankError):
    """A bank file does not match the checksum or shape in its meta."""


class BankStaleError(BankError):
    """The bank was built with a different key than expected."""
