# Copyright (c) cgankd_plugin contributors.
"""tools/convert_checkpoint.py makes a pre-fix checkpoint load safely."""
import argparse
import os
import pickle
import subprocess
import sys

import pytest
import torch
from e2e_utils import REPO_ROOT
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

TOOL = os.path.join(REPO_ROOT, 'tools', 'convert_checkpoint.py')

# Written in a fresh interpreter WITHOUT cgankd_plugin: MMEngine's own
# HistoryBuffer pickling, as in checkpoints made before the plugin's fix.
WRITE_OLD = '''
import sys, numpy as np, torch
from mmengine.logging import MessageHub
hub = MessageHub.get_instance('old')
for value in (1.0, 2.0, 6.0):
    hub.update_scalar('train/loss', value)
hub.update_info('iter', 3)
torch.save(dict(meta=dict(epoch=1, iter=3, seed=np.int64(0)),
                state_dict=dict(w=torch.arange(4.)),
                message_hub=hub.state_dict()), sys.argv[1])
'''


class _WritesMarker:

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def _tool(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, TOOL, *args],
                          capture_output=True,
                          text=True,
                          timeout=300,
                          cwd=REPO_ROOT)


@pytest.fixture(scope='module')
def old_ckpt(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp('old') / 'epoch_1.pth')
    proc = subprocess.run([sys.executable, '-c', WRITE_OLD, path],
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return path


def test_old_checkpoint_is_refused_as_it_is(old_ckpt):
    """The problem: MMEngine's loader (as --resume uses it) refuses it."""
    with pytest.raises(pickle.UnpicklingError, match='getattr'):
        _load_checkpoint(old_ckpt, map_location='cpu')


def test_without_trust_nothing_is_loaded_or_written(tmp_path):
    marker = tmp_path / 'marker'
    src = str(tmp_path / 'evil.pth')
    torch.save(dict(x=_WritesMarker(str(marker))), src)
    dst = tmp_path / 'out.pth'
    proc = _tool(src, str(dst))
    assert proc.returncode != 0
    assert 'weights_only=False' in proc.stdout and 'trust' in proc.stdout
    assert '--trust' in proc.stderr
    assert not dst.exists() and not marker.exists()


def test_converted_checkpoint_loads_with_weights_only(old_ckpt, tmp_path):
    dst = str(tmp_path / 'converted.pth')
    proc = _tool(old_ckpt, dst, '--trust')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'trust' in proc.stdout and '--resume' in proc.stdout
    ckpt = _load_checkpoint(dst, map_location='cpu')  # weights_only=True
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.mean() == pytest.approx(3.0)
    assert buffer.current() == pytest.approx(6.0)
    assert ckpt['meta']['epoch'] == 1
    torch.testing.assert_close(ckpt['state_dict']['w'], torch.arange(4.))
    # the original is left as it was
    with pytest.raises(pickle.UnpicklingError):
        torch.load(old_ckpt, weights_only=True)


def test_same_path_and_missing_input_are_refused(old_ckpt, tmp_path):
    proc = _tool(old_ckpt, old_ckpt, '--trust')
    assert proc.returncode != 0 and 'differ' in proc.stderr
    proc = _tool(
        str(tmp_path / 'none.pth'), str(tmp_path / 'o.pth'), '--trust')
    assert proc.returncode != 0 and 'does not exist' in proc.stderr


def test_file_with_other_objects_is_not_written(tmp_path):
    src = str(tmp_path / 'custom.pth')
    # importable and harmless, but not among the allow-listed types
    torch.save(dict(state_dict={}, extra=argparse.Namespace(a=1)), src)
    dst = tmp_path / 'out.pth'
    proc = _tool(src, str(dst), '--trust')
    assert proc.returncode != 0
    assert 'nothing was written' in proc.stderr
    assert not dst.exists()
