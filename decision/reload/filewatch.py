"""A file the service reads and re-reads when it changes, keeping the last good version.

Used for the content catalog and the profile snapshot that training writes: a
half-written or corrupt new file is refused and the previous content keeps
serving; a file that is missing at start leaves the value None (the caller
degrades) until it appears.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from decision.reload.hotswap import HotSwap

log = logging.getLogger(__name__)

T = TypeVar("T")


class WatchedFile(Generic[T]):
    """`current` is the last successfully loaded content of `path`, or None."""

    def __init__(
        self, path: Path, load: Callable[[Path], T], what: str, poll_seconds: float = 5.0, log_reasons: bool = True
    ) -> None:
        """`log_reasons=False` for files holding user data: a load error may quote a row."""
        self._path = path
        self._log_reasons = log_reasons
        self._load = load
        self._what = what
        self._poll = poll_seconds
        self._swap: HotSwap[T] = HotSwap()
        self._seen: tuple[int, int] | None = None
        self._missing = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def current(self) -> T | None:
        return self._swap.current

    def refresh(self) -> None:
        """Load the file if it changed since the last look; log and keep the old value on failure."""
        try:
            stat = self._path.stat()
        except OSError:
            if not self._missing:  # once per disappearance, not at every poll
                log.warning("%s %s is missing; %s", self._what, self._path, self._fallback())
            self._missing = True
            self._seen = None
            return
        self._missing = False
        signature = (stat.st_mtime_ns, stat.st_size)
        if signature == self._seen:
            return
        self._seen = signature
        try:
            value = self._load(self._path)
        except Exception as exc:  # a bad file must never take down what is serving
            reason = str(exc) if self._log_reasons else type(exc).__name__
            log.error("%s %s refused: %s; %s", self._what, self._path, reason, self._fallback())
            return
        self._swap.publish(value, str(self._path), f"{signature[0]}")
        log.info("%s loaded from %s", self._what, self._path)

    def start(self) -> None:
        """Load now, then re-check every poll interval in a daemon thread."""
        self.refresh()
        self._thread = threading.Thread(target=self._watch, name=f"watch-{self._what}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _fallback(self) -> str:
        return "keeping the previous version" if self._swap.current is not None else "serving without it"

    def _watch(self) -> None:
        while not self._stop.wait(self._poll):
            self.refresh()
