# Copyright (c) cgankd_plugin contributors.
from .cgankd_runner import CGANKDRunner  # noqa: F401
