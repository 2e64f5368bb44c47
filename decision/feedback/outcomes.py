"""Reported outcomes: counted once per idempotency key, queued for the outcome log, passed on.

The request thread checks the key against the keys this process accepted recently (a
bounded set; `training join` removes duplicates across replicas and restarts by the same
key), queues the outcome with the time it arrived, and tells the listeners (allocation
state, live profiles), which must be quick. Nothing here waits for a disk.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import orjson

from decision import metrics
from decision.domain import BUILT_IN_OUTCOMES, Outcome
from decision.feedback.jsonlines import JsonLinesLog

log = logging.getLogger(__name__)

Received = tuple[Outcome, datetime]
OutcomeListener = Callable[[Outcome, datetime], None]


class OutcomeLog(JsonLinesLog[Received]):
    """The outcome log: one JSON line per accepted outcome (no user id, ever)."""

    def __init__(self, path: Path, max_queue: int = 10000, flush_interval: float = 0.1, wake_at: int = 64) -> None:
        super().__init__(path, encode_outcome, "outcomes", max_queue, flush_interval, wake_at)


def encode_outcome(received: Received) -> bytes:
    outcome, received_at = received
    record = {
        "decision_id": outcome.decision_id,
        "type": outcome.outcome_type,
        "content_id": outcome.content_id,
        "value": outcome.value,
        "occurred_at": outcome.occurred_at,
        "received_at": received_at,
        "idempotency_key": outcome.idempotency_key,
    }
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


class OutcomeRecorder:
    """Accepts validated outcomes for this process."""

    def __init__(
        self,
        sink: Callable[[Received], bool] | None,
        clock: Callable[[], datetime],
        declared_types: tuple[str, ...] = (),
        remember: int = 100_000,
    ) -> None:
        """`sink` is the outcome log's append (None: not logged); `remember` bounds the keys kept."""
        self.types = tuple(dict.fromkeys((*BUILT_IN_OUTCOMES, *declared_types)))
        self._sink = sink
        self._clock = clock
        self._remember = remember
        self._seen: dict[str, None] = {}  # insertion-ordered: the oldest key is evicted first
        self._lock = threading.Lock()
        self._listeners: list[OutcomeListener] = []
        self._counters = {
            (kind, result): metrics.OUTCOMES.labels(kind, result)
            for kind in self.types
            for result in ("accepted", "duplicate")
        }

    def add_listener(self, listener: OutcomeListener) -> None:
        """Call `listener(outcome, received_at)` for every accepted, non-duplicate outcome."""
        self._listeners.append(listener)

    def record(self, outcome: Outcome) -> bool:
        """Accept one validated outcome; True if it was a duplicate (then it changes nothing)."""
        key = outcome.idempotency_key
        with self._lock:
            duplicate = key in self._seen
            if not duplicate:
                self._seen[key] = None
                if len(self._seen) > self._remember:
                    del self._seen[next(iter(self._seen))]
        if duplicate:
            self._counters[outcome.outcome_type, "duplicate"].inc()
            return True
        received_at = self._clock()
        if self._sink is not None:
            self._sink((outcome, received_at))
        self._counters[outcome.outcome_type, "accepted"].inc()
        for listener in self._listeners:
            try:
                listener(outcome, received_at)
            except Exception as exc:  # a listener's fault must not fail the report
                metrics.TIER_ERRORS.labels("outcome_listener").inc()
                log.error("outcome listener failed: %s", type(exc).__name__)
        return False
