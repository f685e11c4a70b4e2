# Copyright (c) cgankd_plugin contributors.
from .strict_teacher_distill import StrictTeacherDistill  # noqa: F401
