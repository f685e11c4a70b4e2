# Copyright (c) cgankd_plugin contributors.
"""Each shim works, and is still needed (a failure here means: remove it)."""
import io
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub


def _fresh_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          timeout=300)


def test_mmrazor_import_still_needs_the_version_shim():
    proc = _fresh_python('import mmrazor.models')
    assert proc.returncode != 0, (
        'mmrazor.models imports on this torch without the shim: remove '
        'import_mmrazor() from cgankd_plugin/compat.py')
    assert 'torch>=1.13' in proc.stderr


def test_plugin_import_registers_mmrazor_and_restores_torch_version():
    proc = _fresh_python(
        'import torch; v = torch.__version__; import cgankd_plugin; '
        'from mmrazor.registry import MODELS, DATASETS; '
        "assert MODELS.get('SingleTeacherDistill') is not None; "
        "assert MODELS.get('CRDLoss') is not None; "
        "assert DATASETS.get('CRDDataset') is not None; "
        "assert MODELS.get('mmpretrain.ImageClassifier') is not None; "
        'assert torch.__version__ == v, torch.__version__; print("ok")')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'MultiScaleDeformableAttention' not in proc.stderr


def _message_hub_state() -> dict:
    hub = MessageHub.get_instance('test_compat')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', np.float64(0.5))
    hub.update_info('iter', 3)
    return dict(
        message_hub=hub.state_dict(),
        meta=dict(seed=np.int64(0)),
        state_dict=dict(w=torch.ones(2)))


def test_full_mmengine_checkpoint_loads_with_weights_only():
    buf = io.BytesIO()
    torch.save(_message_hub_state(), buf)
    buf.seek(0)
    ckpt = torch.load(buf, weights_only=True)
    loss = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(loss, HistoryBuffer)
    assert loss.mean() == pytest.approx(1.0)
    assert loss.current() == pytest.approx(0.5)


def test_history_buffer_pickling_without_the_shim_is_refused():
    """Unpatched, MMEngine's checkpoint needs ``getattr``: still needed."""
    code = (
        'import io, torch; from mmengine.logging import HistoryBuffer\n'
        'b = HistoryBuffer(); b.update(1.0); buf = io.BytesIO()\n'
        "torch.save({'b': b}, buf)\n"
        'import cgankd_plugin; buf.seek(0)\n'
        'torch.load(buf, weights_only=True)\n')
    proc = _fresh_python(code)
    assert proc.returncode != 0
    assert 'getattr' in proc.stderr


class _RunsCode:
    """An object whose unpickling would call ``os.system``."""

    def __reduce__(self):
        import os
        return (os.system, ('echo pwned > /dev/null',))


def test_checkpoint_carrying_code_is_still_refused():
    buf = io.BytesIO()
    torch.save({'state_dict': {}, 'evil': _RunsCode()}, buf)
    buf.seek(0)
    with pytest.raises(Exception, match='system'):
        torch.load(buf, weights_only=True)


def test_pre_fix_checkpoint_error_points_to_the_converter(tmp_path):
    """A checkpoint saved by plain MMEngine: the error says what to do."""
    path = str(tmp_path / 'old.pth')
    save = (
        'import torch; from mmengine.logging import HistoryBuffer\n'
        'b = HistoryBuffer(); b.update(1.0)\n'
        f"torch.save({{'state_dict': {{}}, 'hub': b}}, {path!r})\n")
    assert _fresh_python(save).returncode == 0
    load = ('import cgankd_plugin\n'
            'from mmengine.runner.checkpoint import _load_checkpoint\n'
            f'_load_checkpoint({path!r}, map_location="cpu")\n')
    proc = _fresh_python(load)
    assert proc.returncode != 0
    assert 'tools/convert_checkpoint.py' in proc.stderr


def test_kd_soft_ce_loss_runs_beside_mmpretrain():
    """mmrazor's KDSoftCELoss holds an mmcls placeholder without the shim
    (a TypeError at its first forward)."""
    import torch
    from mmrazor.registry import MODELS

    loss = MODELS.build(dict(type='KDSoftCELoss', tau=4, loss_weight=1.0))
    student = torch.randn(8, 10, requires_grad=True)
    teacher = torch.randn(8, 10)
    value = loss(student, teacher)
    value.backward()
    assert torch.isfinite(value) and value.item() > 0
    assert student.grad is not None
    # the same logits give the teacher's own entropy, the minimum
    same = loss(teacher.clone().requires_grad_(), teacher)
    assert same.item() < value.item()
