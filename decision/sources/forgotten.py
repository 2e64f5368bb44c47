"""Forgotten users: the user keys `Forget` removed, kept so that nothing serves them a profile again.

One key per line in an append-only file (user keys, never user ids), shared by the processes
of one host: each re-reads it when it changes, so a user forgotten through one process is
forgotten by all within a poll interval. Training reads the same file and leaves those users
out of the next snapshot (training/io.py). With several hosts, Redis holds the set instead
(decision/sources/redis_profiles.py).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from decision.reload.periodic import Periodic

log = logging.getLogger(__name__)


def read_keys(path: Path) -> set[str]:
    """The keys in a forgotten-users file (empty if there is none)."""
    try:
        return {line.strip() for line in path.read_text(encoding="ascii").splitlines() if line.strip()}
    except FileNotFoundError:
        return set()


class ForgottenFile:
    """The set of forgotten user keys, backed by `path`."""

    def __init__(self, path: Path, poll_seconds: float = 2.0) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._keys: frozenset[str] = frozenset(read_keys(path))
        self._seen = self._signature()
        self._poller = Periodic("watch-forgotten", poll_seconds, self._refresh_logged)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: str) -> None:
        """Record a key durably (flushed and fsynced before returning)."""
        with self._lock:
            if key in self._keys:
                return
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, f"{key}\n".encode("ascii"))
                os.fsync(fd)
            finally:
                os.close(fd)
            self._keys = self._keys | {key}
            self._seen = self._signature()

    def refresh(self) -> None:
        """Re-read the file if another process appended to it."""
        signature = self._signature()
        if signature != self._seen:
            with self._lock:
                self._keys = frozenset(read_keys(self._path))
                self._seen = signature

    def start(self) -> None:
        """Re-read the file every poll interval in a daemon thread."""
        self._poller.start()

    def stop(self) -> None:
        self._poller.stop()

    def _refresh_logged(self) -> None:
        try:
            self.refresh()
        except OSError as exc:
            log.warning("forgotten users: cannot re-read %s (%s)", self._path, exc.strerror)

    def _signature(self) -> tuple[int, int] | None:
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            return None
        return stat.st_size, stat.st_mtime_ns
