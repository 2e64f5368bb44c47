"""SIGTERM and SIGINT as a record the main thread looks at, never a lock taken in a handler.

Python runs a signal handler in the main thread between two bytecodes, wherever that thread
is. A handler that takes a lock deadlocks if the main thread already holds it, and
`threading.Event.set` takes the lock `Event.wait` holds while it enters and leaves its wait:
a signal arriving just then left `decision serve` ignoring SIGTERM for good (about one start
in twenty when the signal came right after readiness, as the shutdown test sends it). So the
handler only appends to a list, which needs no lock, and the main thread polls it.
"""

from __future__ import annotations

import signal
import time
from types import FrameType

POLL_SECONDS = 0.1  # how late a stop may be noticed


class StopSignals:
    """Installs the handlers for SIGTERM and SIGINT when created (in the main thread)."""

    def __init__(self) -> None:
        self._received: list[int] = []
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._record)

    def _record(self, signum: int, _frame: FrameType | None) -> None:
        self._received.append(signum)

    def wait(self, timeout: float | None = None) -> bool:
        """True once a stop signal has arrived; False if `timeout` seconds pass without one."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._received:
            left = POLL_SECONDS if deadline is None else deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(POLL_SECONDS, left))
        return True
