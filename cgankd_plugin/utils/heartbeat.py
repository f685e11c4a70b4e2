# Copyright (c) cgankd_plugin contributors.
"""Rank 0's sign of life, for the ranks that wait for its files.

In a distributed run rank 0 alone trains the cGAN and writes the bank,
for hours maybe, while the other ranks poll for its files (no collective:
it would time out). Should rank 0 hang, or die without the launcher
noticing, they would wait forever. So rank 0 works inside
``Heartbeat(path)``: every progress line of its long loops
(:class:`~cgankd_plugin.utils.progress.ProgressLog`) calls :func:`beat`,
which rewrites the heartbeat file at most every few seconds, from the
working thread itself, so a hung loop stops beating. A waiting rank works
inside ``WatchHeartbeat(path, timeout)`` and its polling loops call
:func:`check`, which raises a clear error once the file is older than
``timeout`` seconds (or, before it first appears, once the wait is).
"""
import os
import os.path as osp
import threading
import time
from typing import Callable, Optional, Sequence, Union

from .atomic_io import atomic_write_json

# the active contexts, per thread (tests run ranks as threads)
_active = threading.local()


class RankHungError(TimeoutError):
    """The rank a process waits for has given no sign of life."""


class Heartbeat:
    """Context in which :func:`beat` rewrites ``path`` (rank 0's side).

    Args:
        path (str): The heartbeat file (on storage every rank sees).
        interval (float): The fewest seconds between two writes.
    """

    def __init__(self, path: str, interval: float = 5.0) -> None:
        self.path, self.interval = path, interval
        self._last = 0.0

    def __enter__(self) -> 'Heartbeat':
        _active.beating = self
        self.beat(force=True)
        return self

    def __exit__(self, *exc) -> None:
        _active.beating = None

    def beat(self, force: bool = False) -> None:
        """Rewrite the file if ``interval`` seconds passed (or ``force``)."""
        now = time.time()
        if force or now - self._last >= self.interval:
            atomic_write_json(self.path, dict(pid=os.getpid(), time=now))
            self._last = now


class WatchHeartbeat:
    """Context in which :func:`check` watches ``path`` (a waiting rank).

    Args:
        path (str): The heartbeat file rank 0 writes.
        timeout (float): Seconds without a beat after which the wait
            fails.
        knob (str): The setting that raises ``timeout`` (for the message).
    """

    def __init__(self, path: str, timeout: float, knob: str) -> None:
        self.path, self.timeout, self.knob = path, float(timeout), knob
        self._started = time.time()

    def __enter__(self) -> 'WatchHeartbeat':
        _active.watched = self
        self._started = time.time()
        return self

    def __exit__(self, *exc) -> None:
        _active.watched = None

    def check(self) -> None:
        """Raise :class:`RankHungError` if the beats stopped too long ago.
        """
        now = time.time()
        try:
            silent = now - os.stat(self.path).st_mtime
        except FileNotFoundError:
            silent = now - self._started
        if silent > self.timeout:
            seen = ('last beat' if osp.exists(self.path) else
                    'no beat at all since this rank started waiting')
            raise RankHungError(
                f'rank 0 has given no sign of life for {silent / 60:.1f} '
                f'min ({seen}; heartbeat file {self.path}): it hung or '
                'died. Check its log; if its work really has silent '
                f'stretches that long, raise {self.knob}.')


def beat() -> None:
    """Rank 0's progress: rewrite the heartbeat if one is active."""
    current = getattr(_active, 'beating', None)
    if current is not None:
        current.beat()


def check() -> None:
    """A waiting rank's poll: fail if the watched heartbeat went silent."""
    current = getattr(_active, 'watched', None)
    if current is not None:
        current.check()


def wait_until(done: Callable[[], bool],
               what: str,
               log: Callable[[str], None],
               poll: float = 2.0,
               also_check: Optional[Callable[[], None]] = None,
               log_every: float = 300.0) -> None:
    """Poll ``done()`` until it holds: the one wait loop of the package.

    No collective, so no collective's timeout. Each poll calls
    ``also_check`` (e.g. "has another rank reported a failure"),
    :func:`check` (a watched rank 0 gone silent raises) and :func:`beat`
    (a rank 0 waiting for the others is alive), then sleeps ``poll``
    seconds; every ``log_every`` seconds a line says what it waits for.

    Args:
        done (Callable[[], bool]): What ends the wait.
        what (str): What is waited for, for the log.
        log (Callable[[str], None]): Where the waiting line goes.
        poll (float): Seconds between two looks.
        also_check (Callable[[], None], optional): Raises to end the wait
            with an error.
        log_every (float): Seconds between two waiting lines.

    Raises:
        RankHungError: if the watched heartbeat goes silent.
    """
    start = last = time.time()
    while not done():
        if also_check is not None:
            also_check()
        check()
        beat()
        time.sleep(poll)
        if time.time() - last >= log_every:
            last = time.time()
            log(f'waiting for {what} ({(last - start) / 60:.0f} min)')


def wait_for_file(path: Union[str, Sequence[str]],
                  log: Callable[[str], None],
                  poll: float = 2.0) -> str:
    """Wait for rank 0's signal file (:func:`wait_until` on its path).

    The cGAN is trained by rank 0 alone and may take hours, and so may the
    bank build: longer than a process group's collective timeout, so the
    other ranks poll a file instead of blocking in a barrier. If rank 0
    dies, the launcher (torchrun, slurm) ends them; if it hangs (or dies
    unnoticed), its heartbeat goes silent and the watched wait fails.

    Args:
        path (str | Sequence[str]): The file, or files of which the first
            to appear ends the wait.
        log (Callable[[str], None]): Where a waiting line goes every 5
            minutes.
        poll (float): Seconds between two looks.

    Returns:
        str: The file that appeared (the first of ``path`` that exists).
    """
    paths = [path] if isinstance(path, str) else list(path)
    wait_until(lambda: any(osp.exists(p) for p in paths),
               'rank 0 (cGAN and bank)', log, poll)
    return next(p for p in paths if osp.exists(p))
