"""An append-only JSON-lines file written off the request path: the decision and outcome logs.

The request thread pays as little as possible per record: `append` puts the raw, immutable
item on a deque (atomic under the GIL, no lock) after a length check. Encoding (orjson)
happens on the writer thread, which wakes on a timer (`flush_interval`) or once `wake_at`
records are queued, whichever comes first; each wake-up drains everything queued and
writes it with one write. So a busy server pays one thread hand-off per `wake_at` records
and few records wait in memory (many waiting records push the serving code out of the CPU
cache: bench/README.md, "Design figures"). A record is on disk within about one interval;
`close` wakes the writer at once and writes what is left, so a clean stop loses nothing
that was accepted. A process killed outright loses at most what was queued: about one
interval's worth.

Nothing here may stop a decision: a full queue, a closed log, a record that is not plain
JSON, a file that cannot be opened (unwritable folder) or written (full disk) each drop the
records concerned and count them in `decision_feedback_dropped_total{log,reason}`; write
failures are logged once per distinct error and the file is opened again on the next
interval. A failed write is truncated back to the last complete line, so the file stays
parseable. There is no rotation: use logrotate with copytruncate, or a shipper.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Generic, TypeVar

import orjson

from decision.metrics import FEEDBACK_DROPPED, FEEDBACK_WRITE_FAILURES

log = logging.getLogger(__name__)

T = TypeVar("T")


class JsonLinesLog(Generic[T]):
    """A bounded queue of items and one writer thread appending `encode(item)` lines to `path`."""

    def __init__(
        self,
        path: Path,
        encode: Callable[[T], bytes],
        name: str,
        max_queue: int = 10000,
        flush_interval: float = 0.1,
        wake_at: int = 64,
    ) -> None:
        self.path = path
        self.name = name
        self.dropped = 0
        self.written = 0
        self.batches = 0  # writes done; with a steady load about one per flush_interval
        self._encode = encode
        self._max_queue = max_queue
        self._flush_interval = flush_interval
        self._wake_at = wake_at
        self._pending: deque[T] = deque()
        self._open = True  # a plain attribute: the cheapest check on the request thread
        self._closing = threading.Event()
        self._wake = threading.Event()  # set by appends every `wake_at` records, and by close()
        self._drop_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last_error = ""
        self._drop_counters = {
            reason: FEEDBACK_DROPPED.labels(name, reason)
            for reason in ("queue_full", "closed", "unencodable", "write_failed")
        }
        self._failures = FEEDBACK_WRITE_FAILURES.labels(name)

    def start(self) -> None:
        """Start the writer (it opens the file, creating parent folders, and retries on failure)."""
        if self._thread is not None:
            raise RuntimeError(f"{self.name} log already started")
        self._thread = threading.Thread(target=self._write_loop, name=f"{self.name}-log", daemon=True)
        self._thread.start()

    def append(self, item: T) -> bool:
        """Queue one item; False (and counted) when the queue is full or the log closed."""
        pending = self._pending
        queued = len(pending)
        if self._open and queued < self._max_queue:
            pending.append(item)
            if queued + 1 >= self._wake_at and not self._wake.is_set():
                self._wake.set()
            return True
        self._drop("queue_full" if self._open else "closed")
        return False

    def close(self, timeout: float = 5.0) -> bool:
        """Write what is queued, then stop; False when the writer did not finish in time."""
        self._open = False
        self._closing.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                return False
        # Items that passed the open check just before it flipped, after the writer's last drain.
        leftover = len(self._pending)
        self._pending.clear()
        if leftover:
            self._drop("closed", leftover)
        return True

    def _drop(self, reason: str, count: int = 1) -> None:
        with self._drop_lock:
            self.dropped += count
        self._drop_counters[reason].inc(count)

    def _write_loop(self) -> None:
        fd: int | None = None
        closing = False
        try:
            while not closing:
                self._wake.wait(self._flush_interval)
                self._wake.clear()
                closing = self._closing.is_set()
                pending = self._pending
                # Only this thread pops, so everything counted here is there to take.
                batch = [pending.popleft() for _ in range(len(pending))]
                if not batch:
                    continue
                if fd is None:
                    fd = self._open_file()
                    if fd is None:
                        self._drop("write_failed", len(batch))
                        continue
                if not self._write(fd, batch):
                    os.close(fd)
                    fd = None  # opened again next time: the file may have been replaced or fixed
        finally:
            if fd is not None:
                os.close(fd)

    def _open_file(self) -> int | None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        except OSError as exc:
            self._failed(f"cannot open {self.path} ({exc.strerror})")
            return None

    def _write(self, fd: int, batch: list[T]) -> bool:
        # One growing buffer, not a list of lines joined at the end: each line's bytes are
        # freed at once and their memory reused, which halves the writer's cost per record.
        buffer = bytearray()
        unencodable: list[str] = []
        for item in batch:
            try:
                buffer += self._encode(item)
            except Exception as exc:  # one bad record must not stop the writer or lose the batch
                unencodable.append(type(exc).__name__)
        if unencodable:
            log.error(
                "%s log: dropped %d records that are not plain JSON (first: %s)",
                self.name,
                len(unencodable),
                unencodable[0],
            )
            self._drop("unencodable", len(unencodable))
        lines = len(batch) - len(unencodable)
        if not buffer:
            return True
        start = os.fstat(fd).st_size
        try:
            view = memoryview(buffer)
            while view:
                view = view[os.write(fd, view) :]
        except OSError as exc:
            self._failed(f"write to {self.path} failed ({exc.strerror})")
            self._drop("write_failed", lines)
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)  # no torn line in the middle of the file
            return False
        if self._last_error:
            log.info("%s log: writing to %s again", self.name, self.path)
            self._last_error = ""
        self.written += lines
        self.batches += 1
        return True

    def _failed(self, message: str) -> None:
        self._failures.inc()
        if message != self._last_error:
            log.error("%s log: %s; dropping records until it works again", self.name, message)
            self._last_error = message


def read_json_lines(path: Path) -> Iterator[dict[str, object]]:
    """Records in file order; a torn last line (a crash mid-write) is skipped, any other bad
    line raises ValueError naming path and line number."""
    with path.open(encoding="utf-8") as lines:
        previous: tuple[int, str] | None = None
        for number, line in enumerate(lines, start=1):
            if previous is not None:
                yield _parse(path, *previous)
            previous = (number, line)
        if previous is not None and previous[1].endswith("\n"):
            yield _parse(path, *previous)
        elif previous is not None:
            log.warning("%s: skipped a torn last line %d", path, previous[0])


def _parse(path: Path, number: int, line: str) -> dict[str, object]:
    try:
        record = orjson.loads(line)  # about twice as fast as json.loads on these lines
    except orjson.JSONDecodeError:
        raise ValueError(f"{path}:{number}: not a JSON line") from None
    if not isinstance(record, dict):
        raise ValueError(f"{path}:{number}: expected a JSON object")
    return record
