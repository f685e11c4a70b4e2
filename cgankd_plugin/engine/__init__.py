# Copyright (c) cgankd_plugin contributors.
from . import hooks  # noqa: F401
