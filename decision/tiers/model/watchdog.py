"""Run blocking calls (MLflow) with a deadline, without ever piling up threads.

The MLflow client has no usable timeout of its own (20 s on a locked SQLite file,
minutes against a dead server, forever against a frozen Postgres). Python cannot
interrupt a thread, so a call that overruns keeps running in its daemon thread;
while it does, new calls are refused at once instead of starting another thread.
`close` refuses further calls and lets a waiting caller go at once: shutdown must not
wait for a registry that takes seconds, or minutes, to answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from decision.tiers.model.errors import RegistryError

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
        self._answered: threading.Event | None = None  # the call in flight's; set when it ends
        self._closed = False

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Return fn() or raise RegistryError when it fails, overruns or one is still running."""
        with self._lock:
            if self._closed:
                raise RegistryError(f"{what}: closed, the service is stopping")
            if self._running is not None and self._running.is_alive():
                held = time.monotonic() - self._started_at
                raise RegistryError(f"{what}: an earlier registry call is still running after {held:.1f} s")
            result: list[T] = []
            failure: list[BaseException] = []
            answered = threading.Event()

            def run() -> None:
                try:
                    result.append(fn())
                except BaseException as exc:  # reported to the waiting caller below
                    failure.append(exc)
                finally:
                    answered.set()

            thread = threading.Thread(target=run, name=self._name, daemon=True)
            self._running, self._started_at = thread, time.monotonic()
            self._answered = answered
            thread.start()
        answered.wait(self.timeout_s)
        if not result and not failure:
            reason = "closed, the service is stopping" if self._closed else f"no answer within {self.timeout_s:g} s"
            raise RegistryError(f"{what}: {reason}")
        if failure:
            raise failure[0]
        return result[0]

    def close(self) -> None:
        """Refuse further calls; a caller waiting for one goes now, with RegistryError (the
        call itself runs on in its daemon thread)."""
        with self._lock:
            self._closed = True
            if self._answered is not None:
                self._answered.set()
