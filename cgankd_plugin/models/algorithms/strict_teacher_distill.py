# Copyright (c) cgankd_plugin contributors.
"""mmrazor's single-teacher distillation with a strictly loaded teacher."""
from typing import List, Optional

import torch
from mmengine.structures import BaseDataElement
from mmrazor.models import SingleTeacherDistill
from mmrazor.models.utils import add_prefix

from ...registry import MODELS
from ...utils.checkpoint import CheckpointError, load_weights_strictly

_OWN_PREFIXES = ('architecture.', 'teacher.', 'distiller.')


@MODELS.register_module()
class StrictTeacherDistill(SingleTeacherDistill):
    """``SingleTeacherDistill`` that refuses a teacher checkpoint not fitting.

    mmrazor loads ``teacher_ckpt`` non-strictly: a file whose keys have the
    wrong prefix only logs "missing keys" and training goes on with a random
    teacher. Here every key must match (shapes too), the file is read with
    ``weights_only=True``, and any mismatch is an error naming the file.
    Everything else is mmrazor's ``SingleTeacherDistill``, except that a
    frozen teacher nothing reads from (a distiller without teacher
    recorders, deliveries or distill losses: cGAN-KD alone, where the
    teacher only filters and relabels the synthetic bank) is not run on
    every training batch; the losses are the same, without its cost.

    ``load_from`` may name a checkpoint of the student alone (a model trained
    without KD, as the paper's students start from): its keys are mapped to
    ``architecture.`` and must cover the whole student, else loading stops
    with an error naming the missing keys.

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
        self._register_load_state_dict_pre_hook(self._map_student_checkpoint)

    def _map_student_checkpoint(self, state_dict, prefix, *args) -> None:
        """Turn a student-alone state dict into one of the whole algorithm.

        Called by ``load_state_dict`` (MMEngine's ``load_from`` too) before
        any key is matched; a state dict of the algorithm passes unchanged.
        """
        if prefix or any(k.startswith(_OWN_PREFIXES) for k in state_dict):
            return
        student = self.architecture.state_dict()
        missing = sorted(set(student) - set(state_dict))
        if missing:
            raise CheckpointError(
                'load_from: the checkpoint is neither a distillation '
                f'checkpoint nor one of the student alone: {len(missing)} '
                f'student keys are missing (e.g. {missing[:3]}).')
        mapped = {f'architecture.{k}': v for k, v in state_dict.items()}
        for name, value in self.state_dict().items():
            # the teacher and the distiller keep their weights
            mapped.setdefault(name, value)
        state_dict.clear()
        state_dict.update(mapped)

    def _teacher_is_read(self) -> bool:
        """Whether a training step needs the teacher's forward pass."""
        distiller = self.distiller
        return bool(
            self.teacher_trainable
            or getattr(distiller, 'teacher_recorders', None) is None
            or distiller.teacher_recorders.recorders
            or distiller.deliveries.deliveries
            or distiller.loss_forward_mappings)

    def loss(self,
             batch_inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None) -> dict:
        """mmrazor's losses; the teacher runs only when something reads it.
        """
        if self._teacher_is_read() or not self.calculate_student_loss:
            return super().loss(batch_inputs, data_samples)
        # nothing to record, deliver or distil: the student's task loss is
        # all of it (mmrazor would add an empty `distill` dict)
        with self.distiller.student_recorders:
            student_losses = self.student(
                batch_inputs, data_samples, mode='loss')
        return add_prefix(student_losses, 'student')
