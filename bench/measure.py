"""One contender's figures: saturated throughput, latency at half of it, unloaded latency.

Order per case: a real client call (is the answer right?), closed loop at high concurrency
(the maximum), open loop at half that rate (latency with queueing, the way pages meet it),
one request at a time (the floor), and a real client call again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bench.load import LoadError, LoadResult, Target, run_h2load

PERCENTILES = (50.0, 90.0, 99.0)
CURVE_POINTS = (*(q / 2 for q in range(198)), *(99 + q / 10 for q in range(10)))


@dataclass(frozen=True)
class LoadShape:
    """Connections and in-flight requests per connection, for each kind of run."""

    closed: tuple[int, int]
    open: tuple[int, int]


GRPC_SHAPE = LoadShape(closed=(8, 8), open=(4, 64))
HTTP1_SHAPE = LoadShape(closed=(4, 1), open=(4, 1))


@dataclass(frozen=True)
class Case:
    """A target plus the real-client check that its answers are right (returns their size)."""

    name: str
    label: str
    target: Target
    check: Callable[[], int]


@dataclass
class Figures:
    """Everything measured for one case; `error` says why a case has no figures."""

    name: str
    label: str
    max_rps: float = math.nan
    decisions_per_s: float = math.nan
    open_rate: float = math.nan
    p50_ms: float = math.nan
    p90_ms: float = math.nan
    p99_ms: float = math.nan
    unloaded_p50_ms: float = math.nan
    failed_requests: int = 0
    peak_rss_mb: float = math.nan
    server: str = ""
    error: str | None = None
    latency_curve_ms: list[tuple[float, float]] = field(default_factory=list, repr=False)


def measure(case: Case, seconds: float, load_core: str | None) -> Figures:
    """All figures of one case; a wrong answer or a failing load run becomes `error`."""
    figures = Figures(case.name, case.label)
    try:
        good_bytes = case.check()
        target = replace(case.target, min_response_bytes=max(1, int(good_bytes * 0.8)))
        shape = HTTP1_SHAPE if target.http1 else GRPC_SHAPE
        closed = run_h2load(
            target,
            seconds=seconds,
            clients=shape.closed[0],
            streams=shape.closed[1],
            core=load_core,
        )
        if closed.requests_ok == 0:
            raise LoadError(f"no successful request in {seconds:.0f} s of closed-loop load")
        figures.max_rps = closed.rps
        figures.decisions_per_s = closed.rps * target.decisions_per_request
        figures.open_rate = closed.rps / 2
        opened = run_h2load(
            target,
            seconds=seconds,
            clients=shape.open[0],
            streams=shape.open[1],
            rate=figures.open_rate,
            core=load_core,
        )
        figures.p50_ms, figures.p90_ms, figures.p99_ms = (opened.percentile(q) for q in PERCENTILES)
        figures.latency_curve_ms = [(q, opened.percentile(q)) for q in CURVE_POINTS]
        unloaded = run_h2load(
            target, seconds=max(2.0, seconds / 3), clients=1, streams=1, core=load_core
        )
        figures.unloaded_p50_ms = unloaded.percentile(50.0)
        figures.failed_requests = _failed(closed, opened, unloaded)
        case.check()
    except Exception as exc:
        figures.error = f"{type(exc).__name__}: {exc}"
    return figures


def _failed(*runs: LoadResult) -> int:
    return sum(run.requests_failed for run in runs)
