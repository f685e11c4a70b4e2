# Copyright (c) cgankd_plugin contributors.
"""The registries the plugin registers into: mmrazor's.

The plugin's modules live in mmrazor's scope, so configs whose default
scope is ``mmrazor`` find them by their bare names, and configs of other
scopes by ``mmrazor.<Name>``.
"""
from mmrazor.registry import (DATA_SAMPLERS, DATASETS, HOOKS,  # noqa: F401
                              METRICS, MODELS, RUNNERS, TRANSFORMS)

__all__ = [
    'DATA_SAMPLERS', 'DATASETS', 'HOOKS', 'METRICS', 'MODELS', 'RUNNERS',
    'TRANSFORMS'
]
