"""A folder of ops-edited YAML files, compiled and hot-reloaded: last good version kept.

A watcher polls the files' names, sizes and mtimes; a change is acted on once it has been
stable for one poll interval (a file still being written is not activated). The candidate
is built by `build(path)`, which compiles, checks and self-tests it (raising
SpecFileError with every problem), and published with one reference swap; the value it
replaced is then `retire`d. A refused candidate leaves the serving version untouched; its
error is logged once and shown in `status()`. Parsing runs in this interpreter: the
loader's file-size cap bounds the stall (docs/hazards.md#yaml-bomb).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from prometheus_client import Counter, Gauge

from decision.conditions.errors import SpecFileError
from decision.conditions.loader import spec_files
from decision.reload.hotswap import HotSwap

log = logging.getLogger(__name__)
Fingerprint = tuple[tuple[str, int, int], ...]


class Versioned(Protocol):
    """What a published spec set must say about itself."""

    @property
    def version(self) -> str: ...

    @property
    def content_hash(self) -> str: ...


V = TypeVar("V", bound=Versioned)


def fingerprint(path: Path) -> Fingerprint:
    """Names, sizes and mtimes of the set's files: cheap to poll."""
    try:
        files = spec_files(path) if path.exists() else []
        return tuple((f.name, (s := f.stat()).st_size, s.st_mtime_ns) for f in files)
    except OSError:
        return ()


class SpecStore(Generic[V]):
    """Serves the active version of the set at `path` and keeps it in step with the files."""

    def __init__(
        self,
        path: Path,
        build: Callable[[Path], V],
        kind: str,
        reloads: Counter,
        active_info: Gauge,
        poll_seconds: float = 1.0,
        retire: Callable[[V], None] | None = None,
        empty_means_none: bool = False,
    ) -> None:
        """`kind` names the set in logs ("ruleset", "experiment set"); `reloads` and
        `active_info` are its metrics (by result; by version and hash). With
        `empty_means_none`, a missing path or a folder without files is a valid state with
        nothing active (experiments: removing the files stops them); without it, it is a
        refused version like any other (rules: the last good ones keep serving)."""
        self._path = path
        self._build = build
        self._kind = kind
        self._reloads = reloads
        self._active_info = active_info
        self._poll = poll_seconds
        self._retire = retire
        self._empty_means_none = empty_means_none
        self._swap: HotSwap[V] = HotSwap()
        self._listeners: list[Callable[[], None]] = []
        self._reload_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: Fingerprint | None = None
        self._last_error = ""

    @property
    def path(self) -> Path:
        return self._path

    @property
    def current(self) -> V | None:
        return self._swap.current

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call `callback` after each successful activation (and now, if already active)."""
        self._listeners.append(callback)
        if self._swap.current is not None:
            callback()

    def load_initial(self) -> None:
        """First load; raises SpecFileError listing every problem if it fails."""
        self._seen = fingerprint(self._path)
        error = self.reload()
        if error is not None:
            raise error

    def reload(self) -> SpecFileError | None:
        """Check the files now; activate a new valid version. Returns the refusal, if any."""
        with self._reload_lock:
            if self._empty_means_none and not (self._path.exists() and spec_files(self._path)):
                self._deactivate()
                return None
            try:
                candidate = self._build(self._path)
            except SpecFileError as exc:
                self._refuse(exc)
                return exc
            current = self._swap.current
            if current is not None and current.content_hash == candidate.content_hash:
                self._last_error = ""  # the files are back to what is serving
                if self._retire is not None:
                    self._retire(candidate)
                return None
            self._activate(candidate, current)
            return None

    def _activate(self, candidate: V, previous: V | None) -> None:
        self._swap.publish(candidate, candidate.version, candidate.content_hash)
        self._last_error = ""
        self._reloads.labels(result="success").inc()
        self._active_info.labels(candidate.version, candidate.content_hash).set(1)
        log.info("%s %s activated (hash %s)", self._kind, candidate.version, candidate.content_hash)
        if previous is not None:
            if (previous.version, previous.content_hash) != (candidate.version, candidate.content_hash):
                self._active_info.remove(previous.version, previous.content_hash)
            if self._retire is not None:
                self._retire(previous)
        for callback in self._listeners:
            callback()

    def _deactivate(self) -> None:
        previous = self._swap.clear()
        self._last_error = ""
        if previous is None:
            return
        self._active_info.remove(previous.version, previous.content_hash)
        log.info("%s %s deactivated: no files at %s", self._kind, previous.version, self._path)
        if self._retire is not None:
            self._retire(previous)
        for callback in self._listeners:
            callback()

    def _refuse(self, error: SpecFileError) -> None:
        text = str(error)
        self._reloads.labels(result="failure").inc()
        self._swap.refuse("", "", text)
        if text != self._last_error:
            current = self._swap.current
            log.error(
                "%s at %s refused, still serving %s:\n%s",
                self._kind,
                self._path,
                current.version if current else "nothing",
                text,
            )
        self._last_error = text

    def status(self) -> dict[str, object]:
        current = self._swap.current
        success, failure = self._swap.last_success, self._swap.last_failure
        return {
            "path": str(self._path),
            "ready": current is not None,
            "version": current.version if current else "",
            "hash": current.content_hash if current else "",
            "activated_at": success.at if success else None,
            "last_error": self._last_error,
            "last_error_at": failure.at if failure and self._last_error else None,
        }

    def start(self) -> None:
        """Watch the path in a daemon thread."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._watch, name=f"watch-{self._kind}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(5.0, 3 * self._poll))
            self._thread = None

    def _watch(self) -> None:
        pending = False
        while not self._stop.wait(self._poll):
            seen = fingerprint(self._path)
            if seen != self._seen:
                self._seen, pending = seen, True  # wait until it stops changing
            elif pending:
                pending = False
                try:
                    self.reload()
                except Exception:
                    log.exception("unexpected failure while reloading the %s", self._kind)
