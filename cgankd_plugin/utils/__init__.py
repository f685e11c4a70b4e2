# Copyright (c) cgankd_plugin contributors.
from .checkpoint import (CheckpointError, load_state_dict_file,
                         student_state_dict)

__all__ = ['CheckpointError', 'load_state_dict_file', 'student_state_dict']
