# Copyright (c) cgankd_plugin contributors.
from .pack_crd_inputs import PackCRDInputs  # noqa: F401
from .pack_regression_inputs import PackRegressionInputs  # noqa: F401
from .teacher_relabel import TeacherRelabel  # noqa: F401
from .gray_to_rgb import GrayToRGB  # noqa: F401
from .load_image_unless_given import LoadImageUnlessGiven  # noqa: F401
