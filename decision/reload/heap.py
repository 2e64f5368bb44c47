"""Keep the garbage collector's passes short: freeze what lives until it is replaced, and
collect the youngest generation less often.

CPython's full (oldest-generation) collection walks every tracked object while holding
the GIL. A serving process holds hundreds of thousands of them, nearly all MLflow,
SQLAlchemy, pydantic and grpc module state, and under load a full pass ran every few
seconds and held the GIL for a tenth of a second or more each time (a p99 in the bench).
`gc.freeze()` moves every live object into a permanent generation the collector never
walks, after which a full pass takes a millisecond or two (bench/README.md, "Design
figures"). Frozen objects are still freed by reference counting
when they are dropped; only reference cycles among them wait for a collection that
never comes, so the young generations are collected first and the call is made only
when a long-lived value (ruleset, model, catalog, profiles) has just been published.
That makes a published value that holds reference cycles a leak once it is replaced:
keep them cycle-free (docs/hazards.md#engine-reload has the rules engine's case).

The youngest generation is collected every 700 net allocations by default: every few
dozen decisions here, because the decisions waiting for the decision-log writer (up to 64,
a dozen objects or more each) are alive when it runs, so each pass walked about a thousand
objects, a visible share of every decision (decision_gc_pause_seconds shows it). Objects freed by reference counting
leave the generation at once, so a higher threshold means fewer passes of about the same
size; only reference cycles wait longer to be freed, and a request makes none. The older
generations keep their thresholds, but those count passes of the younger one, so they too
run about 14 times less often.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

from decision.metrics import GC_PAUSES

log = logging.getLogger(__name__)

_lock = threading.Lock()
# Young generations only: a full pass before freezing would itself be the stall we avoid.
_YOUNGEST_TWO = 1


def freeze_long_lived() -> None:
    """Collect young garbage, then move every live object out of the collector's reach."""
    with _lock:
        gc.collect(_YOUNGEST_TWO)
        gc.freeze()
        if log.isEnabledFor(logging.DEBUG):  # counting walks every frozen object
            log.debug("heap frozen: %d objects out of the collector's full passes", gc.get_freeze_count())


YOUNG_THRESHOLD = 10_000  # net allocations between collections of the youngest generation


def collect_young_less_often() -> tuple[int, int, int]:
    """Raise the youngest generation's threshold; returns the thresholds it replaced."""
    before: tuple[int, int, int] = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, before[1], before[2])
    return before


_PAUSES = {generation: GC_PAUSES.labels(str(generation)) for generation in (0, 1, 2)}
_started = 0.0


def watch_pauses() -> None:
    """Export every collection's pause as decision_gc_pause_seconds (idempotent).

    A long pause here explains a latency spike no handler timing shows.
    """
    if _record_pause not in gc.callbacks:
        gc.callbacks.append(_record_pause)


def _record_pause(phase: str, info: dict[str, int]) -> None:
    # Collections run one at a time under the GIL, so one start time suffices. The
    # metric's locks are never held across an allocation, so this cannot deadlock.
    global _started
    if phase == "start":
        _started = time.perf_counter()
    else:
        _PAUSES[info["generation"]].observe(time.perf_counter() - _started)
