# Copyright (c) cgankd_plugin contributors.
from .regression_head import RegressionHead

__all__ = ['RegressionHead']
