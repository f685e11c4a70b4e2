# Copyright (c) cgankd_plugin contributors.
"""Checkpoints that survive a kill at any instant, and a resume that copes.
"""
import os
import os.path as osp
import re
import zipfile
from collections import deque
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from ...registry import HOOKS
from ...utils.atomic_io import atomic_write_bytes
from ...utils.fault_injection import fault_point

LAST_CHECKPOINT = 'last_checkpoint'


def checkpoint_problem(path: str) -> Optional[str]:
    """What is wrong with the checkpoint file at ``path`` (None: nothing).

    ``torch.save`` writes a zip archive whose directory sits at its end, so
    a file cut short by a kill does not open, and a damaged member fails
    its CRC. Both are checked without unpickling anything.
    """
    if not osp.isfile(path):
        return 'missing'
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError):
        return 'truncated, or not a torch checkpoint'
    if damaged is not None:
        return f'damaged member {damaged!r}'
    return None


def _is_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook``, safe to kill at any instant.

    Three changes, all about a process killed mid-save:

    - Local checkpoints are written to a temporary file, flushed and
      renamed (the ``'atomic_local'`` file backend), and so is
      ``last_checkpoint``: no reader ever sees a half-written file.
    - The new checkpoint and ``last_checkpoint`` are written before the
      checkpoints beyond ``max_keep_ckpts`` are removed (MMEngine removes
      first, so with ``max_keep_ckpts=1`` a kill during the save left no
      checkpoint at all).
    - ``--resume`` without a path (``resume=True``, ``load_from=None``)
      takes the newest *complete* checkpoint: an empty or dangling
      ``last_checkpoint``, or a truncated newest checkpoint left by an
      older run or another tool, is skipped with a warning naming it.
      When checkpoints exist but none is complete, a clear error says so;
      with no checkpoint at all the run starts from scratch (MMEngine's
      behaviour), saying so. ``resume`` with an explicit path that is not
      a complete checkpoint is refused with the file's name.

    Takes the arguments of ``CheckpointHook``; only ``backend_args``
    defaults differently (``dict(backend='atomic_local')`` for a local
    ``out_dir``).
    """

    def __init__(self, *args, out_dir: Optional[str] = None,
                 backend_args: Optional[dict] = None,
                 file_client_args: Optional[dict] = None, **kwargs) -> None:
        local = out_dir is None or '://' not in str(out_dir)
        if backend_args is None and file_client_args is None and local:
            backend_args = dict(backend='atomic_local')
        super().__init__(
            *args,
            out_dir=out_dir,
            backend_args=backend_args,
            file_client_args=file_client_args,
            **kwargs)

    # ----------------------------------------------------------------- resume
    def before_run(self, runner) -> None:
        """Point an automatic ``--resume`` at the newest complete checkpoint.

        MMEngine reads ``last_checkpoint`` after this (in
        ``Runner.load_or_resume``) and trusts it.
        """
        if not runner._resume:
            return
        if is_main_process():
            self._remove_dead_temp_files(runner)
        if runner._load_from is not None:
            if '://' in str(runner._load_from):
                return  # a remote file: its backend reports problems
            problem = checkpoint_problem(runner._load_from)
            if problem is not None:
                raise FileNotFoundError(
                    f'resume: the checkpoint {runner._load_from!r} is '
                    f'{problem}; give a complete one to --resume, or '
                    '--resume without a path for the newest complete one '
                    'in the work dir.')
            return
        path = self._newest_complete(runner)
        if path is None:
            runner.logger.warning(
                f'resume: no checkpoint in {runner.work_dir}; training '
                'starts from scratch.')
            runner._resume = False
        else:
            runner._load_from = path

    def _name_pattern(self, step: str, suffix: str = '') -> re.Pattern:
        """``filename_tmpl`` as a regex, ``{}`` replaced by ``step``."""
        name = re.escape(self.filename_tmpl).replace(re.escape('{}'), step)
        return re.compile(f'^{name}{suffix}$')

    def _remove_dead_temp_files(self, runner) -> None:
        """Remove ``<checkpoint>.tmp<pid>`` files of processes now dead.

        A run killed inside a save leaves its temporary file (a whole
        checkpoint's size); the run that resumes clears it.
        """
        pattern = self._name_pattern(r'\d+', r'\.tmp(\d+)')
        for name in sorted(os.listdir(runner.work_dir)):
            match = pattern.match(name)
            if match is None or _is_alive(int(match.group(1))):
                continue
            try:
                os.remove(osp.join(runner.work_dir, name))
            except FileNotFoundError:
                continue
            runner.logger.info(f'resume: removed {name}, the temporary '
                               'file of a save that was killed')

    def _candidates(self, runner, bad: List[str]) -> List[str]:
        """Checkpoint paths, the one ``last_checkpoint`` names first."""
        found, folders = [], [runner.work_dir]
        pointer = osp.join(runner.work_dir, LAST_CHECKPOINT)
        if osp.isfile(pointer):
            with open(pointer, encoding='utf-8', errors='replace') as f:
                named = f.read().strip()
            if named:
                found.append(named)
                folders.append(osp.dirname(named))
            else:
                bad.append(f'{pointer} (empty)')
        pattern = self._name_pattern(r'(\d+)')
        numbered = []
        for folder in dict.fromkeys(folders):
            if not osp.isdir(folder):
                continue
            for name in os.listdir(folder):
                match = pattern.match(name)
                if match:
                    numbered.append(
                        (int(match.group(1)), osp.join(folder, name)))
        found += [path for _, path in sorted(numbered, reverse=True)]
        return list(dict.fromkeys(found))

    def _newest_complete(self, runner) -> Optional[str]:
        bad: List[str] = []
        for path in self._candidates(runner, bad):
            problem = checkpoint_problem(path)
            if problem is None:
                if bad:
                    runner.logger.warning(
                        'resume: skipped ' + '; '.join(bad) +
                        f'; resuming from {path}')
                return path
            bad.append(f'{path} ({problem})')
        if bad:
            raise RuntimeError(
                f'resume: no complete checkpoint in {runner.work_dir}: ' +
                '; '.join(bad) + '. Remove these files to train from '
                'scratch, or run without --resume.')
        return None

    # ------------------------------------------------------------------- save
    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if is_main_process():
            fault_point('checkpoint.renamed')
            atomic_write_bytes(
                str(self.last_ckpt).encode('utf-8'),
                osp.join(runner.work_dir, LAST_CHECKPOINT))
        self._remove_outdated(runner, step)

    def _remove_outdated(self, runner, step: int) -> None:
        """Keep the newest ``max_keep_ckpts`` checkpoints (if positive)."""
        if self.max_keep_ckpts <= 0:
            return
        # MMEngine's deque has maxlen=max_keep_ckpts: appending to it would
        # forget the oldest step without removing its file
        steps = list(self.keep_ckpt_ids)
        if not steps or steps[-1] != step:
            steps.append(step)
        while len(steps) > self.max_keep_ckpts:
            old = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(steps.pop(0)))
            if not is_main_process():
                continue
            if self.file_backend.isfile(old):
                self.file_backend.remove(old)
            elif self.file_backend.isdir(old):  # saved by DeepSpeed
                self.file_backend.rmtree(old)
        self.keep_ckpt_ids = deque(steps, self.max_keep_ckpts)
        runner.message_hub.update_info('keep_ckpt_ids', steps)
