# Copyright (c) cgankd_plugin contributors.
from .weighted_crd_loss import WeightedCRDLoss  # noqa: F401
