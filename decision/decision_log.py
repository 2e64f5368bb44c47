"""The decision log: one JSON line per decision, written off the request path.

`append` never blocks: records go into a bounded queue and a background thread
writes whatever has queued up as one batch (one write + flush, up to 1,000
records), so a record is on disk well within a second and a busy log costs one
syscall per batch, not per decision. When the queue is full the record is
dropped and counted: a slow disk must not slow down decisions. There is no rotation: the file grows
until something outside (logrotate with copytruncate, a shipper) moves it.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from decision.domain import Decision, Request
from decision.metrics import DECISION_LOG_DROPPED

logger = logging.getLogger(__name__)

_BATCH = 1000
_IDLE_CHECK_S = 0.2  # how often an idle writer looks whether close() was called


class DecisionLog:
    """Append-only JSON-lines file fed by a bounded queue and one writer thread."""

    def __init__(self, path: Path, max_queue: int = 10000) -> None:
        self.path = path
        self.dropped = 0
        self.written = 0
        self._queue: queue.Queue[dict[str, object]] = queue.Queue(maxsize=max_queue)
        self._closing = threading.Event()
        self._drop_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Open the file (creating parent directories) and start the writer."""
        if self._thread is not None:
            raise RuntimeError("DecisionLog already started")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self.path.open("a", encoding="utf-8")
        self._thread = threading.Thread(target=self._write_loop, args=(file,), name="decision-log", daemon=True)
        self._thread.start()

    def append(self, record: dict[str, object]) -> None:
        """Queue one record; drops and counts it when the queue is full or the log closed."""
        if self._closing.is_set():
            self._drop()
            return
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self._drop()

    def close(self, timeout: float = 5.0) -> bool:
        """Write what is queued, then stop; False when the writer did not finish in time."""
        self._closing.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                return False
        # Records that raced past the closing check after the writer's last look.
        leftover = 0
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
            leftover += 1
        if leftover:
            self._drop(leftover)
        return True

    def _drop(self, count: int = 1) -> None:
        with self._drop_lock:
            self.dropped += count
        DECISION_LOG_DROPPED.inc(count)

    def _write_loop(self, out: TextIO) -> None:
        with out:
            while True:
                try:
                    batch = [self._queue.get(timeout=_IDLE_CHECK_S)]
                except queue.Empty:
                    if self._closing.is_set():
                        return
                    continue
                while len(batch) < _BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                self._write(out, batch)

    def _write(self, out: TextIO, batch: list[dict[str, object]]) -> None:
        lines = []
        for record in batch:
            try:
                lines.append(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")
            except (TypeError, ValueError):
                logger.error("decision log: dropped a record that is not plain JSON")
                self._drop()
        try:
            out.write("".join(lines))
            out.flush()
        except OSError as exc:
            logger.error("decision log: write to %s failed (%s)", self.path, exc.strerror)
            self._drop(len(lines))
            return
        self.written += len(lines)


def read_decision_log(path: Path) -> Iterator[dict[str, object]]:
    """Records in file order; a torn last line (crash mid-write) is skipped, any other bad
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
            logger.warning("decision log %s: skipped a torn last line %d", path, previous[0])


def _parse(path: Path, number: int, line: str) -> dict[str, object]:
    try:
        record = json.loads(line)
    except ValueError:
        raise ValueError(f"{path}:{number}: not a JSON line") from None
    if not isinstance(record, dict):
        raise ValueError(f"{path}:{number}: expected a JSON object")
    return record


def record_for(decision: Decision, request: Request) -> dict[str, object]:
    """The log record of one decision; carries the user id only with consent."""
    provenance = decision.provenance
    record: dict[str, object] = {
        "decision_id": decision.decision_id,
        "request_id": decision.request_id,
        "time": decision.decided_at.isoformat(),
        "placement": request.placement,
        "source": decision.source.name,
        "items": [{"content_id": item.content_id, "score": item.score, "rank": item.rank} for item in decision.items],
        "fallback_reasons": [reason.name for reason in provenance.fallback_reasons],
    }
    if request.consent:
        record["user_id"] = request.user_id
    optional = {
        "rule_id": provenance.rule_id,
        "ruleset_version": provenance.ruleset_version,
        "ruleset_hash": provenance.ruleset_hash,
        "model_name": provenance.model_name,
        "model_version": provenance.model_version,
    }
    record.update({key: value for key, value in optional.items() if value})
    return record
