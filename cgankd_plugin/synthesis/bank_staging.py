# Copyright (c) cgankd_plugin contributors.
"""Files through which the processes of a distributed bank build meet.

A distributed build has one writer (rank 0, which owns the ``BankWriter``)
and helpers (the other ranks). They never meet in a collective: a build
can take hours, longer than a process group's timeout. They exchange
files in ``<bank_dir>.staging`` instead, each written atomically (a
temporary file, fsync, rename), and poll for the files they wait for:

- ``staging.json``: the key and session of the build, written by the
  writer when the folder is ready (a folder with another key is wiped);
- ``dre.pth`` (:data:`DRE_FILE`): the cDR-RS density-ratio model,
  fitted by the writer alone;
- ``burn_in_<c>.npz`` (:func:`burn_in_name`): the burn-in of condition
  ``c`` (statistic, and what else its users need), written by the
  condition's owner;
- ``class_<c>_chunk_<j>.npz`` / ``round_<r>.npz`` (:func:`class_chunk_name`
  / :func:`round_name`): one committed round of a helper (the samples it
  accepted, its size and the helper's rank: :meth:`BankStaging.save_chunk`,
  :meth:`BankStaging.load_chunk`);
- ``progress.json``: how far the writer got (helpers skip what is done);
- ``done_rank<r>.json``: a helper has staged its whole share;
- ``failed_rank<r>.json``: a rank's error, so the others stop waiting.

The folder survives a killed build (its files are reused on resume, by
any number of processes: names depend on conditions and rounds, not on
ranks) and is deleted once the bank is finalized.
"""
import glob
import os
import os.path as osp
import shutil
from typing import Callable, Dict, Iterable, Optional

import numpy as np

from ..utils import heartbeat
from ..utils.atomic_io import atomic_write_json, fsync_dir
from .bank.format import read_json_object

STAGING_SUFFIX = '.staging'
RECORD_FILE = 'staging.json'
PROGRESS_FILE = 'progress.json'
DRE_FILE = 'dre.pth'
CHUNK_FIELDS = ('images', 'cond_labels', 'teacher_labels', 'teacher_probs')


class StagingFailure(RuntimeError):
    """Another rank of the build failed (its error is in the message)."""


def staging_dir(bank_dir: str) -> str:
    """Where the staging folder of the bank at ``bank_dir`` lives."""
    return osp.normpath(bank_dir) + STAGING_SUFFIX


def burn_in_name(condition: int) -> str:
    """The file of the burn-in of ``condition``."""
    return f'burn_in_{condition:05d}.npz'


def class_chunk_name(c: int, j: int) -> str:
    """The file of chunk ``j`` of class ``c``'s stream (classification)."""
    return f'class_{c:05d}_chunk_{j:06d}.npz'


def round_name(r: int) -> str:
    """The file of round ``r`` of the bank's stream (regression)."""
    return f'round_{r:06d}.npz'


class BankStaging:
    """One rank's view of the staging folder of a build.

    Args:
        bank_dir (str): The bank being built.
        key (str): The bank's key; a folder holding another key is stale.
        session (str): Identifies this run of the build (e.g. the runner's
            timestamp): helpers wait until the writer has prepared the
            folder for this session.
        rank (int): This process's rank.
        poll (float): Seconds between two looks at a file waited for.
        log (callable, optional): Where waiting notices go.
    """

    def __init__(self,
                 bank_dir: str,
                 key: str,
                 session: str,
                 rank: int,
                 poll: float = 1.0,
                 log: Optional[Callable[[str], None]] = None) -> None:
        self.root = staging_dir(bank_dir)
        self.key = key
        self.session = str(session)
        self.rank = int(rank)
        self.poll = float(poll)
        self.log = log or print

    # ------------------------------------------------------------- folder
    def path(self, name: str) -> str:
        return osp.join(self.root, name)

    def prepare(self, progress: dict) -> None:
        """Writer: make the folder ready for this build and session.

        A folder of another key (or without a record) is wiped; one of the
        same key keeps its files (a resumed build), except old failure and
        completion notices.

        Args:
            progress (dict): What the writer already holds, written to
                ``progress.json`` before the helpers are let in.
        """
        record = read_json_object(self.path(RECORD_FILE)) or {}
        if osp.isdir(self.root) and record.get('key') != self.key:
            shutil.rmtree(self.root)
        os.makedirs(self.root, exist_ok=True)
        for pattern in ('failed_rank*.json', 'done_rank*.json'):
            for name in glob.glob(self.path(pattern)):
                os.remove(name)
        self.write_json(PROGRESS_FILE, progress)
        atomic_write_json(
            self.path(RECORD_FILE), dict(key=self.key, session=self.session))

    def wait_ready(self) -> None:
        """Helper: wait until the writer has prepared the folder."""

        def ready() -> bool:
            record = read_json_object(self.path(RECORD_FILE)) or {}
            return (record.get('key') == self.key
                    and record.get('session') == self.session)

        self.wait_until(ready, 'the writer to prepare the staging folder',
                        check_failures=False)

    def remove(self) -> None:
        """Writer: delete the folder (the bank is finalized)."""
        shutil.rmtree(self.root, ignore_errors=True)

    # -------------------------------------------------------------- files
    def exists(self, name: str) -> bool:
        return osp.isfile(self.path(name))

    def save(self, name: str, **arrays: np.ndarray) -> None:
        """Write ``arrays`` to ``name`` (an ``.npz``) atomically."""
        path = self.path(name)
        tmp = f'{path}.tmp{os.getpid()}'
        with open(tmp, 'wb') as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(self.root)

    def load(self,
             name: str,
             fields: Optional[Iterable[str]] = None
             ) -> Optional[Dict[str, np.ndarray]]:
        """The arrays of ``name`` (only ``fields`` if given), or None."""
        path = self.path(name)
        if not osp.isfile(path):
            return None
        with np.load(path, allow_pickle=False) as data:
            names = data.files if fields is None else [
                f for f in fields if f in data.files
            ]
            return {f: data[f] for f in names}

    def wait_for(self,
                 name: str,
                 what: str,
                 fields: Optional[Iterable[str]] = None
                 ) -> Dict[str, np.ndarray]:
        """Wait for ``name`` (written by another rank), then load it."""
        self.wait_until(lambda: self.exists(name), what)
        return self.load(name, fields)

    def save_chunk(self, name: str, chunk: Dict[str, np.ndarray],
                   candidates: int) -> None:
        """Helper: stage one committed round for the writer.

        Args:
            name (str): The chunk's file (:func:`class_chunk_name`,
                :func:`round_name`).
            chunk (dict[str, np.ndarray]): Its accepted samples (the
                :data:`CHUNK_FIELDS` it has).
            candidates (int): The round's size.
        """
        self.save(
            name, candidates=np.int64(candidates), rank=np.int64(self.rank),
            **chunk)

    def load_chunk(self,
                   name: str,
                   what: Optional[str] = None) -> Optional[tuple]:
        """A staged round: ``(chunk, candidates, rank)``.

        Args:
            name (str): The chunk's file.
            what (str, optional): Wait for the file, written by whom
                ``what`` names; None: None when it is not there.

        Returns:
            tuple, optional: The chunk's arrays (dict), the round's size
            and the rank that drew it.
        """
        data = (self.wait_for(name, what)
                if what is not None else self.load(name))
        if data is None:
            return None
        chunk = {k: data[k] for k in CHUNK_FIELDS if k in data}
        return chunk, int(data['candidates']), int(data['rank'])

    def discard(self, name: str) -> None:
        """Delete ``name`` if it is there."""
        try:
            os.remove(self.path(name))
        except FileNotFoundError:
            pass

    def write_json(self, name: str, data: dict) -> None:
        atomic_write_json(self.path(name), data)

    def read_json(self, name: str) -> Optional[dict]:
        return read_json_object(self.path(name))

    # ------------------------------------------------------------- status
    def mark_done(self) -> None:
        """Helper: this rank has staged all of its share."""
        self.write_json(f'done_rank{self.rank}.json', dict(rank=self.rank))

    def wait_helpers(self, world_size: int) -> None:
        """Writer: wait until every helper rank has marked itself done."""
        names = [f'done_rank{r}.json' for r in range(1, world_size)]
        self.wait_until(lambda: all(self.exists(n) for n in names),
                        'the other ranks to finish')

    # ----------------------------------------------------------- failures
    def fail(self, error: BaseException) -> None:
        """Tell the other ranks that this one failed (best effort)."""
        try:
            atomic_write_json(
                self.path(f'failed_rank{self.rank}.json'),
                dict(rank=self.rank, error=f'{type(error).__name__}: '
                     f'{error}'))
        except OSError:
            pass

    def check_failures(self) -> None:
        """Raise :class:`StagingFailure` if another rank reported one."""
        for name in sorted(glob.glob(self.path('failed_rank*.json'))):
            record = read_json_object(name) or {}
            if record.get('rank') == self.rank:
                continue
            raise StagingFailure(
                f'rank {record.get("rank")} of the bank build failed: '
                f'{record.get("error")}')

    def wait_until(self,
                   done: Callable[[], bool],
                   what: str,
                   check_failures: bool = True) -> None:
        """Poll ``done()``; no collective, so no collective's timeout.

        Raises:
            StagingFailure: if another rank reports a failure meanwhile.
            RankHungError: if rank 0's watched heartbeat goes silent
                (:mod:`cgankd_plugin.utils.heartbeat`).
        """
        heartbeat.wait_until(
            done, what,
            lambda line: self.log(f'bank: rank {self.rank} {line}'),
            self.poll,
            also_check=self.check_failures if check_failures else None)
