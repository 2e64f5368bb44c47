"""A daemon thread that calls one function every interval until stopped.

The background refreshers (forgotten users from a file or Redis, bandit statistics) share
this shape; a caller's `tick` handles its own errors, since a raising tick ends the thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Periodic:
    """`tick` every `interval_seconds` (first at once if `immediately`), from `start` to `stop`."""

    def __init__(self, name: str, interval_seconds: float, tick: Callable[[], None], immediately: bool = False) -> None:
        self._name = name
        self._interval = interval_seconds
        self._tick = tick
        self._immediately = immediately
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once; later calls do nothing)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop after the tick in progress, waiting up to 5 s for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        if self._immediately:
            self._tick()
        while not self._stop.wait(self._interval):
            self._tick()
