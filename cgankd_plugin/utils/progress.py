# Copyright (c) cgankd_plugin contributors.
"""Progress lines with a rate and an ETA for the long loops of the stage."""
import time
from typing import Callable, Optional


def format_duration(seconds: float) -> str:
    """``h:mm:ss`` (or ``m:ss`` under an hour)."""
    minutes, secs = divmod(max(0, int(round(seconds))), 60)
    hours, minutes = divmod(minutes, 60)
    return (f'{hours}:{minutes:02d}:{secs:02d}'
            if hours else f'{minutes}:{secs:02d}')


class ProgressLog:
    """Log ``<what>: done/total (pct), rate, ETA`` every so often.

    A line goes out when at least ``min_interval`` seconds passed since the
    last one and the work advanced by a ``1 / num_lines`` step, and always
    at the end. The rate and the ETA count only the work done in this
    process (``start`` is where a resumed loop picked up).

    Args:
        what (str): What is being counted, e.g. ``'cGAN: iter'``.
        total (int): The count at which the work is done.
        log (callable): Where lines go (e.g. ``runner.logger.info``).
        unit (str): The unit of the rate, e.g. ``'it'`` or ``'img'``.
        start (int): The count the loop starts from.
        num_lines (int): About how many lines in all.
        min_interval (float): The fewest seconds between two lines.
    """

    def __init__(self,
                 what: str,
                 total: int,
                 log: Callable[[str], None],
                 unit: str = 'it',
                 start: int = 0,
                 num_lines: int = 20,
                 min_interval: float = 0.0) -> None:
        self.what, self.total, self.log, self.unit = what, total, log, unit
        self.start = self._last = start
        self.step = max(1, (total - start) // max(1, num_lines))
        self.min_interval = min_interval
        self._started = self._last_time = time.time()

    def update(self, done: int, detail: Optional[str] = None) -> None:
        """Report that ``done`` of ``total`` are finished."""
        now = time.time()
        finished = done >= self.total
        if not finished and (done - self._last < self.step or
                             now - self._last_time < self.min_interval):
            return
        self._last, self._last_time = done, now
        elapsed = max(now - self._started, 1e-9)
        rate = (done - self.start) / elapsed
        if finished:
            eta = f'done in {format_duration(elapsed)}'
        elif rate > 0:
            eta = f'ETA {format_duration((self.total - done) / rate)}'
        else:
            eta = 'ETA unknown'
        pct = 100.0 * done / max(self.total, 1)
        # slow work reads better as seconds per unit
        speed = (f'{rate:.2f} {self.unit}/s' if rate >= 1 or rate == 0 else
                 f'{1 / rate:.1f} s/{self.unit}')
        line = f'{self.what} {done}/{self.total} ({pct:.0f} %), {speed}, {eta}'

        self.log(line + (f'  {detail}' if detail else ''))
