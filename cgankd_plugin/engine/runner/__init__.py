# Copyright (c) cgankd_plugin contributors.
from .cgankd_runner import CGANKDRunner, cgan_hook_index  # noqa: F401
