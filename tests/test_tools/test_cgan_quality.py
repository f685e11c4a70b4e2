# Copyright (c) cgankd_plugin contributors.
"""tools/analysis/cgan_quality.py: the teacher's view of each checkpoint of
a cGAN recipe, on the real Fashion-MNIST recipe shrunk."""
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch
from e2e_utils import NEEDS_FASHION_MNIST, REPO_ROOT
from mmengine.config import Config

from cgankd_plugin.engine.cgan_training import build_cgan, load_cgan_recipe

RECIPE = 'configs/cgan/dcgan_1xb64_fashion_mnist.py'
TEACHER = 'configs/fashion_mnist/vgg8_1xb128_fashion_mnist.py'
SMALL = ['train_dataloader.dataset.indices=300']


@NEEDS_FASHION_MNIST
def test_each_checkpoint_gets_its_figures(tmp_path):
    torch.manual_seed(0)
    gan = build_cgan(load_cgan_recipe(osp.join(REPO_ROOT, RECIPE)))
    # two "checkpoints": the initial weights, then the generator changed
    torch.save(dict(state_dict=gan.state_dict()), tmp_path / 'iter_10.pth')
    with torch.no_grad():
        for p in gan.parameters():
            p.add_(torch.randn_like(p))
    torch.save(dict(state_dict=gan.state_dict()), tmp_path / 'iter_2.pth')
    from mmpretrain.registry import MODELS
    teacher_cfg = Config.fromfile(osp.join(REPO_ROOT, TEACHER))
    teacher = MODELS.build(teacher_cfg.model)
    torch.save(dict(state_dict=teacher.state_dict()), tmp_path / 't.pth')
    out = tmp_path / 'quality.json'
    proc = subprocess.run(
        [sys.executable, 'tools/analysis/cgan_quality.py', RECIPE, TEACHER,
         str(tmp_path / 't.pth'), '--checkpoints',
         str(tmp_path / 'iter_*.pth'), '--out', str(out), '--num-samples',
         '100', '--real-reference', '--cfg-options', *SMALL],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    rows = result['rows']
    # in iteration order, not name order
    assert [r['iteration'] for r in rows] == [2, 10]
    for row in rows:
        for key in ('teacher_recall', 'teacher_precision',
                    'teacher_accuracy'):
            assert 0 <= row[key] <= 1
        assert sorted(row['recall_per_class'], key=int) == [
            str(c) for c in range(10)]
    # different weights, different figures
    assert rows[0]['teacher_fd'] != rows[1]['teacher_fd']
    assert 'iter_10.pth: recall' in proc.stdout
    reference = result['real_reference']
    assert 0 < reference['teacher_recall'] <= 1
    assert (tmp_path / 'quality.png').stat().st_size > 0


def test_no_matching_checkpoint_is_named(tmp_path):
    proc = subprocess.run(
        [sys.executable, 'tools/analysis/cgan_quality.py', RECIPE, TEACHER,
         'none.pth', '--checkpoints', str(tmp_path / 'iter_*.pth'),
         '--out', str(tmp_path / 'q.json'), '--cfg-options', *SMALL],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert '--checkpoints: nothing matches' in proc.stderr
