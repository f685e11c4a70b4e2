# Copyright (c) cgankd_plugin contributors.
"""AtomicCheckpointHook: atomic saves, and a resume past torn checkpoints."""
import os
import os.path as osp
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from cgankd_plugin.engine.hooks.atomic_checkpoint_hook import (
    AtomicCheckpointHook, checkpoint_problem)
from cgankd_plugin.registry import HOOKS
from cgankd_plugin.utils.atomic_io import atomic_torch_save


class _Logger:

    def __init__(self) -> None:
        self.lines = []

    def info(self, msg: str) -> None:
        self.lines.append(msg)

    warning = info


def _runner(work_dir, resume=True, load_from=None):
    return SimpleNamespace(
        work_dir=str(work_dir), _resume=resume, _load_from=load_from,
        logger=_Logger())


def _save(path, value=1.0):
    atomic_torch_save(dict(state_dict=dict(w=torch.tensor(value))), path)


def _truncate(path):
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])


def test_checkpoint_problem_names_what_is_wrong(tmp_path):
    good = str(tmp_path / 'good.pth')
    _save(good)
    assert checkpoint_problem(good) is None
    assert checkpoint_problem(str(tmp_path / 'none.pth')) == 'missing'
    cut = str(tmp_path / 'cut.pth')
    _save(cut)
    _truncate(cut)
    assert 'truncated' in checkpoint_problem(cut)
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    assert 'truncated' in checkpoint_problem(str(empty))


def test_registered_and_atomic_by_default():
    hook = HOOKS.build(dict(type='AtomicCheckpointHook', interval=1))
    assert isinstance(hook, AtomicCheckpointHook)
    assert hook.backend_args == dict(backend='atomic_local')
    remote = AtomicCheckpointHook(out_dir='s3://bucket/ckpts')
    assert remote.backend_args is None  # not forced onto the local disk


def test_resume_skips_a_truncated_newest_checkpoint(tmp_path):
    _save(str(tmp_path / 'epoch_1.pth'))
    _save(str(tmp_path / 'epoch_2.pth'))
    _truncate(str(tmp_path / 'epoch_2.pth'))
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_2.pth'))
    runner = _runner(tmp_path)
    AtomicCheckpointHook().before_run(runner)
    assert runner._load_from == str(tmp_path / 'epoch_1.pth')
    assert runner._resume
    warning = runner.logger.lines[-1]
    assert 'epoch_2.pth (truncated' in warning and 'epoch_1.pth' in warning


def test_resume_past_an_empty_last_checkpoint_takes_the_newest(tmp_path):
    for epoch in (2, 10, 9):  # numerically newest, not by name
        _save(str(tmp_path / f'epoch_{epoch}.pth'))
    (tmp_path / 'last_checkpoint').write_text('')
    runner = _runner(tmp_path)
    AtomicCheckpointHook().before_run(runner)
    assert runner._load_from == str(tmp_path / 'epoch_10.pth')
    assert 'last_checkpoint (empty)' in runner.logger.lines[-1]


def test_resume_follows_last_checkpoint_when_it_is_complete(tmp_path):
    _save(str(tmp_path / 'iter_4.pth'))
    _save(str(tmp_path / 'iter_8.pth'))
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))
    runner = _runner(tmp_path)
    AtomicCheckpointHook(by_epoch=False).before_run(runner)
    assert runner._load_from == str(tmp_path / 'iter_4.pth')
    assert runner.logger.lines == []  # nothing skipped, nothing to say


def test_resume_with_no_complete_checkpoint_is_a_clear_error(tmp_path):
    _save(str(tmp_path / 'epoch_1.pth'))
    _truncate(str(tmp_path / 'epoch_1.pth'))
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    with pytest.raises(RuntimeError) as err:
        AtomicCheckpointHook().before_run(_runner(tmp_path))
    msg = str(err.value)
    assert 'epoch_3.pth (missing)' in msg and 'epoch_1.pth (truncated' in msg
    assert 'without --resume' in msg


def test_resume_with_nothing_saved_starts_from_scratch(tmp_path):
    runner = _runner(tmp_path)
    AtomicCheckpointHook().before_run(runner)
    assert runner._resume is False and runner._load_from is None
    assert 'starts from scratch' in runner.logger.lines[-1]


def test_resume_from_a_bad_explicit_path_names_it(tmp_path):
    path = str(tmp_path / 'epoch_5.pth')
    with pytest.raises(FileNotFoundError, match='epoch_5.pth.*missing'):
        AtomicCheckpointHook().before_run(_runner(tmp_path, load_from=path))


def test_resume_removes_temp_files_of_dead_saves_only(tmp_path):
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    (tmp_path / f'epoch_3.pth.tmp{dead.pid}').write_bytes(b'partial')
    (tmp_path / f'epoch_3.pth.tmp{os.getpid()}').write_bytes(b'live')
    (tmp_path / 'notes.tmp1').write_bytes(b'not ours')
    AtomicCheckpointHook().before_run(_runner(tmp_path))
    assert sorted(os.listdir(tmp_path)) == sorted(
        [f'epoch_3.pth.tmp{os.getpid()}', 'notes.tmp1'])


class _Toy(BaseModel):

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        loss = ((self.w - inputs)**2).mean()
        return dict(loss=loss) if mode == 'loss' else [loss]


def test_training_keeps_the_newest_and_points_at_it(tmp_path):
    """A real Runner: max_keep_ckpts=1 keeps one complete checkpoint."""
    with DefaultScope.overwrite_default_scope('mmrazor'):
        runner = Runner(
            model=_Toy(),
            work_dir=str(tmp_path),
            train_dataloader=dict(
                dataset=[dict(inputs=torch.ones(1))] * 4,
                sampler=dict(type='DefaultSampler', shuffle=False),
                batch_size=2,
                collate_fn=dict(type='default_collate')),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
            train_cfg=dict(by_epoch=True, max_epochs=3),
            default_hooks=dict(
                checkpoint=dict(
                    type='AtomicCheckpointHook', interval=1,
                    max_keep_ckpts=1),
                logger=None),
            default_scope='mmrazor')
        runner.train()
    names = sorted(n for n in os.listdir(tmp_path) if n.endswith('.pth')
                   or '.tmp' in n)
    assert names == ['epoch_3.pth']
    assert checkpoint_problem(str(tmp_path / 'epoch_3.pth')) is None
    with open(tmp_path / 'last_checkpoint') as f:
        assert f.read() == osp.join(str(tmp_path), 'epoch_3.pth')
