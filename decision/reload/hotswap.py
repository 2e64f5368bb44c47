"""A holder of one immutable current value, replaced whole: publish-after-validate.

Readers take `current` once per request and use that object to the end, so a
request never sees half of an old value and half of a new one. Writers build
and check a new value off the hot path and publish it with one reference
assignment; a failed build never touches what is serving.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Generic, TypeVar

from decision.reload.heap import freeze_long_lived

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Activation:
    """One attempt to publish a new value, kept for status output."""

    version: str
    content_hash: str
    at: float
    error: str = ""


class HotSwap(Generic[T]):
    """The current value plus a record of the last success and last failure."""

    def __init__(self) -> None:
        self._current: T | None = None
        self._lock = threading.Lock()  # serialises writers only; readers never block
        self.last_success: Activation | None = None
        self.last_failure: Activation | None = None

    @property
    def current(self) -> T | None:
        """The published value, or None before the first successful publish."""
        return self._current

    def publish(self, value: T, version: str, content_hash: str) -> T | None:
        """Make `value` current; returns the value it replaced.

        A published value lives until it is replaced, so it is frozen out of the garbage
        collector's full passes (decision.reload.heap says why).
        """
        with self._lock:
            previous, self._current = self._current, value
            self.last_success = Activation(version, content_hash, time.time())
        freeze_long_lived()
        return previous

    def clear(self) -> T | None:
        """Publish nothing (readers see None from now on); returns the value it replaced."""
        with self._lock:
            previous, self._current = self._current, None
        return previous

    def refuse(self, version: str, content_hash: str, error: str) -> None:
        """Record a candidate that failed its checks; the current value stays."""
        with self._lock:
            self.last_failure = Activation(version, content_hash, time.time(), error)
