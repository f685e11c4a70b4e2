# Copyright (c) cgankd_plugin contributors.
"""mmrazor's single-teacher distillation with a strictly loaded teacher."""
from typing import Optional

from mmrazor.models import SingleTeacherDistill

from ...registry import MODELS
from ...utils.checkpoint import load_weights_strictly


@MODELS.register_module()
class StrictTeacherDistill(SingleTeacherDistill):
    """``SingleTeacherDistill`` that refuses a teacher checkpoint not fitting.

    mmrazor loads ``teacher_ckpt`` non-strictly: a file whose keys have the
    wrong prefix only logs "missing keys" and training goes on with a random
    teacher. Here every key must match (shapes too), the file is read with
    ``weights_only=True``, and any mismatch is an error naming the file.
    Everything else is mmrazor's ``SingleTeacherDistill``.

    Args:
        teacher_ckpt (str, optional): The teacher's checkpoint, a state dict
            or an MMEngine checkpoint of the teacher model.
        teacher_ckpt_prefix (str, optional): Take the teacher from keys with
            this prefix (``'teacher.'`` for a distillation checkpoint,
            ``'architecture.'`` for a student trained under mmrazor).
        **kwargs: As mmrazor's ``SingleTeacherDistill``.
    """

    def __init__(self,
                 teacher_ckpt: Optional[str] = None,
                 teacher_ckpt_prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(teacher_ckpt=None, **kwargs)
        self.teacher_ckpt = teacher_ckpt
        if teacher_ckpt:
            load_weights_strictly(self.teacher, teacher_ckpt,
                                  'model.teacher_ckpt', teacher_ckpt_prefix)
            self.teacher._is_init = True
