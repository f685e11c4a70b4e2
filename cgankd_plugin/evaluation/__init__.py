# Copyright (c) cgankd_plugin contributors.
from . import metrics  # noqa: F401
