# Copyright (c) cgankd_plugin contributors.
from .real_fake_ratio_sampler import RealFakeRatioSampler  # noqa: F401
