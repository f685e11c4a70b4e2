# Copyright (c) cgankd_plugin contributors.
from . import algorithms, backbones, generators, heads, losses  # noqa: F401
