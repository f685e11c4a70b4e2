# Copyright (c) cgankd_plugin contributors.
from .pack_crd_inputs import PackCRDInputs  # noqa: F401
from .pack_regression_inputs import PackRegressionInputs  # noqa: F401
