# Copyright (c) cgankd_plugin contributors.
"""Projects built on cgankd_plugin: ``python -m demo.<name>``."""
