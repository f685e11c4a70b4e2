# Copyright (c) cgankd_plugin contributors.
"""README's smoke run works as written (it cannot rot unnoticed)."""
import os
import os.path as osp
import re
import shlex
import subprocess
import sys

from e2e_utils import NEEDS_FASHION_MNIST, REPO_ROOT


def _smoke_command() -> list:
    with open(osp.join(REPO_ROOT, 'README.md')) as f:
        text = f.read()
    section = text.split('### A smoke run', 1)[1]
    block = re.search(r'```bash\n(.*?)```', section, re.S).group(1)
    return shlex.split(block.replace('\\\n', ' '))


@NEEDS_FASHION_MNIST
def test_the_readme_smoke_run_trains_the_whole_path(tmp_path):
    cmd = _smoke_command()
    assert cmd[:2] == ['python', 'tools/train.py']
    work_dir = cmd.index('--work-dir') + 1
    cmd[work_dir] = str(tmp_path / 'smoke')
    proc = subprocess.run([sys.executable, *cmd[1:]], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = tmp_path / 'smoke'
    assert (out / 'epoch_1.pth').is_file()
    assert (out / 'cgan' / 'iter_20.pth').is_file()
    assert (out / 'synthetic_bank' / 'meta.json').is_file()
