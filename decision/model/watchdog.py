"""Run blocking calls (MLflow) with a deadline, without ever piling up threads.

The MLflow client has no usable timeout of its own (20 s on a locked SQLite file,
minutes against a dead server, forever against a frozen Postgres). Python cannot
interrupt a thread, so a call that overruns keeps running in its daemon thread;
while it does, new calls are refused at once instead of starting another thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from decision.model.errors import RegistryError

T = TypeVar("T")


class Watchdog:
    """At most one outstanding call; the caller waits at most `timeout_s` for it."""

    def __init__(self, timeout_s: float, name: str = "registry-call") -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        self.timeout_s = timeout_s
        self._name = name
        self._lock = threading.Lock()
        self._running: threading.Thread | None = None
        self._started_at = 0.0

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Return fn() or raise RegistryError when it fails, overruns or one is still running."""
        with self._lock:
            if self._running is not None and self._running.is_alive():
                held = time.monotonic() - self._started_at
                raise RegistryError(f"{what}: an earlier registry call is still running after {held:.1f} s")
            result: list[T] = []
            failure: list[BaseException] = []

            def run() -> None:
                try:
                    result.append(fn())
                except BaseException as exc:  # reported to the waiting caller below
                    failure.append(exc)

            thread = threading.Thread(target=run, name=self._name, daemon=True)
            self._running, self._started_at = thread, time.monotonic()
            thread.start()
        thread.join(self.timeout_s)
        if thread.is_alive():
            raise RegistryError(f"{what}: no answer within {self.timeout_s:g} s")
        if failure:
            raise failure[0]
        return result[0]
