# Copyright (c) cgankd_plugin contributors.
from .crd_memory_size_hook import CRDMemorySizeHook  # noqa: F401
