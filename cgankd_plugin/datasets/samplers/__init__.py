# Copyright (c) cgankd_plugin contributors.
from .real_fake_ratio_sampler import RealFakeRatioSampler  # noqa: F401
from .vicinal_batch_sampler import VicinalBatchSampler  # noqa: F401
