# Copyright (c) cgankd_plugin contributors.
"""cGAN-KD as an mmrazor plugin.

``import cgankd_plugin`` applies the compatibility shims (see
:mod:`cgankd_plugin.compat`), registers mmrazor's and mmpretrain's modules and
then the plugin's own. Configs load it with::

    custom_imports = dict(imports=['cgankd_plugin'],
                          allow_failed_imports=False)
"""
from .compat import apply_shims
from .version import __version__

apply_shims()

import mmpretrain.datasets  # noqa: E402,F401
import mmpretrain.evaluation  # noqa: E402,F401
import mmpretrain.models  # noqa: E402,F401

from . import (datasets, engine, evaluation, models,  # noqa: E402,F401
               synthesis)

__all__ = ['__version__']
