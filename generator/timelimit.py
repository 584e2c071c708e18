"""The render time limit: a handout that takes longer than ``--time-limit`` fails alone.

The limit is an interval timer (``SIGALRM``), so it applies only on a process's main thread
(where the command line renders); elsewhere there is no limit.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class OutOfTime(BaseException):
    """Raised from SIGALRM; a BaseException so that WeasyPrint's ``except Exception``
    cannot swallow it."""


@contextmanager
def time_limit(seconds: float | None) -> Iterator[list[bool]]:
    """Raise :class:`OutOfTime` in this block after ``seconds`` (then every 0.1 s, in case
    the code inside swallowed it). Signals work on the main thread only; elsewhere there is no
    limit. Yields a flag list: ``[True]`` once the time is up, so that the caller can tell an
    alarm that was swallowed."""
    expired: list[bool] = []
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield expired
        return

    def alarm(signum, frame):
        expired.append(True)
        raise OutOfTime

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)
    try:
        yield expired
    finally:
        while True:  # an alarm may still arrive here; the flag remembers it
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                break
            except OutOfTime:
                pass
        signal.signal(signal.SIGALRM, previous)
