# Copyright (c) cgankd_plugin contributors.
"""Every compatibility shim the plugin needs, in one place.

mmrazor 1.0.0 was written for torch 1.x and for mmcls (the old name of
mmpretrain); MMEngine 0.10.7 predates torch's ``weights_only=True`` default.
Each shim below says why it exists. ``tests/test_compat.py`` fails when a
shim stops working *or* stops being needed, so they can be removed as soon
as upstream catches up.
"""
import contextlib
import importlib
import warnings
from typing import Iterator

import torch

_APPLIED = False


@contextlib.contextmanager
def _report_torch_version(version: str) -> Iterator[None]:
    """Temporarily make ``torch.__version__`` read ``version``."""
    real = torch.__version__
    torch.__version__ = version
    try:
        yield
    finally:
        torch.__version__ = real


def import_mmrazor() -> None:
    """Import mmrazor's registered modules on torch 2.x.

    Why: for torch >= 1.13 mmrazor's quantization code imports
    ``torch.ao`` names that torch 2.x removed, and the import of
    ``mmrazor.models`` dies with "torch>=1.13 is not installed properly".
    Reporting torch 1.12 while mmrazor registers its modules makes it take
    its placeholder branch for quantization (which we never use) and
    register everything else normally. The real version is restored at once.
    """
    with _report_torch_version('1.12.0'):
        for name in ('mmrazor.models', 'mmrazor.engine', 'mmrazor.datasets'):
            importlib.import_module(name)


def _history_buffer_getstate(self) -> dict:
    # MMEngine's own ``__getstate__`` adds the class-level statistics
    # methods to the state, which pickles them through ``getattr``: a
    # ``weights_only`` unpickler must never be allowed to call that. The
    # methods come back from the class on load, so they are left out.
    state = dict(self.__dict__)
    state.pop('statistics_methods', None)
    state.pop('_statistics_methods', None)
    return state


def _history_buffer_setstate(self, state: dict) -> None:
    self.__dict__.update(state)


def allow_mmengine_checkpoints() -> None:
    """Let ``torch.load(weights_only=True)`` read full MMEngine checkpoints.

    Why: torch >= 2.6 loads with ``weights_only=True`` by default and
    MMEngine 0.10.7 calls ``torch.load`` without the argument, so ``--resume``
    and full-checkpoint ``load_from`` fail with ``UnpicklingError`` on the
    message hub's ``HistoryBuffer``. Rather than switching the safety off we
    allow-list the few plain-data types such a checkpoint holds; a
    checkpoint carrying code is still refused.
    """
    import numpy as np
    from mmengine.logging import HistoryBuffer
    HistoryBuffer.__getstate__ = _history_buffer_getstate
    HistoryBuffer.__setstate__ = _history_buffer_setstate
    safe = [HistoryBuffer, np.ndarray, np.dtype]
    multiarray = getattr(np, '_core', np.core).multiarray
    safe += [multiarray._reconstruct, multiarray.scalar]
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        safe += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType')
        ]
    torch.serialization.add_safe_globals(safe)


def explain_pre_fix_checkpoints() -> None:
    """Point users with checkpoints saved before the fix to the converter.

    Why: a checkpoint written by plain MMEngine pickles its message hub's
    methods through ``getattr``; ``torch.load(weights_only=True)`` rightly
    refuses it, with advice (allow-listing ``getattr``) that must never be
    followed. MMEngine's local-file loader is wrapped to say what to do.
    """
    import pickle

    from mmengine.runner.checkpoint import CheckpointLoader
    original = CheckpointLoader._schemes['']

    def load_from_local(filename, map_location=None):
        try:
            return original(filename, map_location)
        except pickle.UnpicklingError as err:
            if 'getattr' not in str(err):
                raise
            raise pickle.UnpicklingError(
                f'{filename!r} was saved without cgankd_plugin imported '
                '(plain MMEngine, or a plugin version before the '
                'HistoryBuffer fix): its message hub pickles methods '
                'through getattr, which torch.load(weights_only=True) '
                'rightly refuses. Do not allow-list getattr or set '
                'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD. If you trust the file, '
                'convert it once with\n  python tools/convert_checkpoint.py '
                f'{filename} NEW.pth --trust\nand resume from NEW.pth.'
            ) from None

    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)


def give_kd_soft_ce_its_loss() -> None:
    """``KDSoftCELoss`` calls mmcls's ``soft_cross_entropy``.

    mmrazor 1.0.0 imports it from ``mmcls``, which is not installed beside
    mmpretrain (its successor), so the module holds a placeholder and the
    loss raises ``TypeError: PlaceHolder.__init__() got an unexpected
    keyword argument 'reduction'`` on its first forward. mmpretrain keeps
    the same function with the same signature; the loss module takes it
    at construction, so setting the module global is enough.
    """
    from mmpretrain.models.losses.cross_entropy_loss import \
        soft_cross_entropy
    from mmrazor.models.losses import kd_soft_ce_loss
    kd_soft_ce_loss.soft_cross_entropy = soft_cross_entropy


def apply_shims() -> None:
    """Apply every shim once; safe to call repeatedly."""
    global _APPLIED
    if _APPLIED:
        return
    # mmcv-lite has no compiled ops and says so on every import of
    # ``mmcv.cnn``; nothing the plugin uses needs them.
    warnings.filterwarnings(
        'ignore', message='Fail to import ``MultiScaleDeformableAttention``')
    allow_mmengine_checkpoints()
    explain_pre_fix_checkpoints()
    import_mmrazor()
    give_kd_soft_ce_its_loss()
    _APPLIED = True
