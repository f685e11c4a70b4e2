# Copyright (c) cgankd_plugin contributors.
from .regression_metric import RegressionMetric

__all__ = ['RegressionMetric']
