# Copyright (c) cgankd_plugin contributors.
"""A plain model's checkpoint must fit it: map a student, refuse the rest."""
import re
from typing import Dict, Iterable, List

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmrazor.models.algorithms import BaseAlgorithm

from ...registry import HOOKS
from ...utils.checkpoint import (STUDENT_PREFIX, CheckpointError,
                                 extract_student, key_prefixes)

CONVERTER = 'tools/convert_kd_ckpt_to_student.py'


def _weight_names(keys: Iterable[str]) -> List[str]:
    # BatchNorm's step counters are not weights; MMEngine ignores them too
    return [k for k in keys if not k.endswith('num_batches_tracked')]


@HOOKS.register_module()
class CheckpointFitHook(Hook):
    """A plain model loads a distillation checkpoint's student, or stops.

    MMEngine loads ``load_from`` (and ``tools/test.py``'s CHECKPOINT)
    non-strictly: keys that do not fit are logged as a warning and the
    run goes on with the model's random weights. A distillation
    checkpoint given to its student's config is the common case: every
    key carries mmrazor's ``architecture.`` and nothing loads. Before the
    weights are loaded (``after_load_checkpoint``, before MMEngine's
    ``EMAHook`` copies them) this hook compares the checkpoint with the
    model, whose weights are *found* when at least ``min_found`` of them
    are in the checkpoint under their own names:

    * found: loaded as MMEngine does (a few keys may differ, e.g. a new
      head; MMEngine logs them);
    * not found, but found under ``architecture.`` (a distillation
      checkpoint of this student): the student is loaded and the teacher
      and distiller keys are dropped, with an INFO line. That reading is
      unambiguous (mmrazor's algorithms keep their student there), so the
      user's intent is served rather than refused;
    * otherwise the run stops with :class:`CheckpointError`, naming how
      many weights are missing and how many keys are unexpected, the
      checkpoint's key prefixes and, for a distillation checkpoint, the
      converter. Random weights are never evaluated or fine-tuned.

    Outside the plugin's tools (mmpretrain's ``init_model``, its
    inferencers) nothing maps: convert the checkpoint once with
    ``tools/convert_kd_ckpt_to_student.py``.

    mmrazor algorithms (distillation models) are left alone: their own
    loading applies (``StrictTeacherDistill`` maps a student-alone
    checkpoint into its ``architecture``). The plugin's tools register
    this hook on every runner they build
    (:func:`~cgankd_plugin.utils.tool_config.build_runner`); a config may
    also list it in ``custom_hooks``.

    Args:
        min_found (float): The share of the model's weights that must be in
            the checkpoint under their own names. Defaults to 0.5.
    """

    priority = 'VERY_HIGH'

    def __init__(self, min_found: float = 0.5) -> None:
        if not 0 < min_found <= 1:
            raise ValueError(f'min_found must be in (0, 1], not {min_found}')
        self.min_found = min_found

    def after_load_checkpoint(self, runner, checkpoint: Dict) -> None:
        """Fit the checkpoint's state dict to the runner's model, in place.

        Args:
            runner (Runner): The runner loading the checkpoint.
            checkpoint (dict): An MMEngine checkpoint or a bare state dict.
        """
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        if isinstance(model, BaseAlgorithm):
            return
        state = checkpoint.get('state_dict', checkpoint)
        fitted = self.fit(state, model.state_dict().keys())
        if fitted is state:
            return
        runner.logger.info(
            f'The checkpoint is a distillation checkpoint: loading its '
            f'student ({len(fitted)} keys under {STUDENT_PREFIX!r}), '
            f'leaving out {len(state) - len(fitted)} teacher and distiller '
            f'keys. For plain mmpretrain, convert it once with {CONVERTER}.')
        if state is checkpoint:
            checkpoint.clear()
            checkpoint.update(fitted)
            if hasattr(checkpoint, '_metadata'):
                checkpoint._metadata = fitted._metadata
        else:
            checkpoint['state_dict'] = fitted

    def fit(self, state: Dict, model_keys: Iterable[str]) -> Dict:
        """``state`` if it fits, else its student if that fits, else raise.

        Args:
            state (dict): The checkpoint's state dict.
            model_keys (Iterable[str]): The model's state-dict keys.

        Returns:
            dict: ``state`` itself, or the student taken out of it.

        Raises:
            CheckpointError: Neither fits.
        """
        expected = _weight_names(model_keys)
        if not expected or self._fits(state, expected):
            return state
        distilled = any(k.startswith(STUDENT_PREFIX) for k in state)
        if distilled and not any(
                k.startswith(STUDENT_PREFIX) for k in expected):
            student = extract_student(state)
            if self._fits(student, expected):
                return student
        names = {self._plain(k) for k in state}
        missing = [k for k in expected if k not in names]
        unexpected = sorted(names - set(expected))
        hint = (f' Its {STUDENT_PREFIX!r} keys (a distillation checkpoint\'s'
                ' student) do not fit the model either: is the config the '
                f'student\'s? {CONVERTER} writes the student alone.'
                if distilled else '')
        raise CheckpointError(
            'The checkpoint to load (load_from, or tools/test.py\'s '
            f'CHECKPOINT) does not fit the model: {len(missing)} of the '
            f'model\'s {len(expected)} weights are missing (e.g. '
            f'{missing[:3]}), {len(unexpected)} of its {len(state)} keys '
            f'are unexpected (e.g. {unexpected[:3]}); its keys start with '
            f'{key_prefixes(state)}. The model would keep its random '
            f'weights, so the run stops here.{hint}')

    @staticmethod
    def _plain(key: str) -> str:
        # MMEngine strips a wrapper's `module.` before loading
        return re.sub(r'^module\.', '', key)

    def _fits(self, state: Dict, expected: List[str]) -> bool:
        names = {self._plain(k) for k in state}
        found = sum(k in names for k in expected)
        return found >= self.min_found * len(expected)
