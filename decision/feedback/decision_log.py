"""The decision log: one JSON line per decision, written off the request path.

The request thread pays as little as possible per decision: `append` puts the
`(decision, request context)` pair on a deque (atomic under the GIL, no
lock) after a length check. Building the record and serialising it (orjson)
happen on the writer thread, which wakes on a timer (`flush_interval`) or once
`wake_at` records are queued, whichever comes first; each wake-up drains
everything queued and writes it with one write + flush. So a busy server pays
one thread hand-off per `wake_at` decisions, and the decisions waiting for the
writer stay few: a timer alone let hundreds of them pile up per interval under
load, which pushed the serving code out of the CPU cache and cost a noticeable share
of the throughput; waking at 64 records recovered most of it (bench/README.md, "Design
figures"). A record is on disk within about one interval; `close` wakes the writer
at once and writes what is left.

When the queue is full or the log closed, the decision is dropped and counted:
a slow disk must not slow down decisions. The bound is checked without a lock,
so concurrent appenders may overshoot it by at most one record each.

A decision with a non-finite item score (NaN, inf) is dropped and counted, not
written: JSON has no such numbers, and writing `null` (what orjson does) would
silently change the record. There is no rotation: the file grows until
something outside (logrotate with copytruncate, a shipper) moves it.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import orjson

from decision.domain import Decision
from decision.metrics import DECISION_LOG_DROPPED
from decision.pipeline.context import RequestContext

logger = logging.getLogger(__name__)


class DecisionLog:
    """Append-only JSON-lines file fed by a bounded deque and one writer thread, woken by a
    timer or by enough queued records."""

    def __init__(self, path: Path, max_queue: int = 10000, flush_interval: float = 0.1, wake_at: int = 64) -> None:
        self.path = path
        self.dropped = 0
        self.written = 0
        self.batches = 0  # writes done; with a steady load about one per flush_interval
        self._max_queue = max_queue
        self._flush_interval = flush_interval
        self._wake_at = wake_at
        self._pending: deque[tuple[Decision, RequestContext]] = deque()
        self._open = True  # a plain attribute: the cheapest check on the request thread
        self._closing = threading.Event()
        self._wake = threading.Event()  # set by appends every `wake_at` records, and by close()
        self._drop_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Open the file (creating parent directories) and start the writer."""
        if self._thread is not None:
            raise RuntimeError("DecisionLog already started")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self.path.open("ab")
        self._thread = threading.Thread(target=self._write_loop, args=(file,), name="decision-log", daemon=True)
        self._thread.start()

    def append(self, decision: Decision, context: RequestContext) -> None:
        """Queue one decision; drops and counts it when the queue is full or the log closed."""
        pending = self._pending
        queued = len(pending)
        if self._open and queued < self._max_queue:
            pending.append((decision, context))
            if queued + 1 >= self._wake_at and not self._wake.is_set():
                self._wake.set()
        else:
            self._drop()

    def close(self, timeout: float = 5.0) -> bool:
        """Write what is queued, then stop; False when the writer did not finish in time."""
        self._open = False
        self._closing.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                return False
        # Decisions that passed the open check just before it flipped, after the writer's last drain.
        leftover = len(self._pending)
        self._pending.clear()
        if leftover:
            self._drop(leftover)
        return True

    def _drop(self, count: int = 1) -> None:
        with self._drop_lock:
            self.dropped += count
        DECISION_LOG_DROPPED.inc(count)

    def _write_loop(self, out: BinaryIO) -> None:
        with out:
            closing = False
            while not closing:
                self._wake.wait(self._flush_interval)
                self._wake.clear()
                closing = self._closing.is_set()
                pending = self._pending
                # Only this thread pops, so everything counted here is there to take.
                batch = [pending.popleft() for _ in range(len(pending))]
                if batch:
                    self._write(out, batch)

    def _write(self, out: BinaryIO, batch: list[tuple[Decision, RequestContext]]) -> None:
        # One growing buffer, not a list of lines joined at the end: each line's bytes are
        # freed at once and their memory reused, which halves the writer's cost per record.
        buffer = bytearray()
        failed: list[str] = []
        for decision, context in batch:
            try:
                buffer += encode_record(decision, context)
            except Exception as exc:  # one bad record must not stop the writer or lose the batch
                failed.append(type(exc).__name__)
        if failed:
            logger.error("decision log: dropped %d records that are not plain JSON (first: %s)", len(failed), failed[0])
            self._drop(len(failed))
        lines = len(batch) - len(failed)
        try:
            out.write(buffer)
            out.flush()
        except OSError as exc:
            logger.error("decision log: write to %s failed (%s)", self.path, exc.strerror)
            self._drop(lines)
            return
        self.written += lines
        self.batches += 1


def encode_record(decision: Decision, context: RequestContext) -> bytes:
    """One log line (newline included); ValueError for a non-finite score, which JSON cannot carry."""
    for item in decision.items:
        if not math.isfinite(item.score):
            raise ValueError("non-finite item score")
    return orjson.dumps(record_for(decision, context), option=orjson.OPT_APPEND_NEWLINE)


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


_OPTIONAL = ("rule_id", "ruleset_version", "ruleset_hash", "model_name", "model_version", "tier")


def record_for(decision: Decision, context: RequestContext) -> dict[str, object]:
    """The log record of one decision, as `encode_record` writes it; the user id only with consent.

    `time` stays a datetime: orjson writes it exactly as `isoformat()` would, several times faster.
    Empty provenance fields are left out.
    """
    provenance = decision.provenance
    request = context.request
    record: dict[str, object] = {
        "decision_id": decision.decision_id,
        "request_id": decision.request_id,
        "time": decision.decided_at,
        "placement": request.placement,
        "source": decision.source.name,
        "items": [{"content_id": item.content_id, "score": item.score, "rank": item.rank} for item in decision.items],
        "fallback_reasons": [reason.name for reason in provenance.fallback_reasons],
    }
    if request.consent:
        record["user_id"] = request.user_id
    for key in _OPTIONAL:
        value = getattr(provenance, key)
        if value:
            record[key] = value
    if provenance.details:
        record["details"] = dict(provenance.details)
    return record
