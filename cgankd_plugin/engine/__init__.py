# Copyright (c) cgankd_plugin contributors.
from . import hooks  # noqa: F401
from . import runner  # noqa: F401
from . import atomic_local_backend  # noqa: F401
