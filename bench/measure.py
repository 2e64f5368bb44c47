"""Every contender's figures: saturated throughput, latency at half of it, unloaded latency.

Per case: a real client call (is the answer right?), closed loop at high concurrency
(the maximum), open loop at half that rate (latency with queueing, the way pages meet it),
one request at a time (the floor), and a real client call again.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from bench.load import LoadError, LoadResult, Target, run_h2load
from bench.servers import Server

PERCENTILES = (50.0, 90.0, 99.0)
CURVE_POINTS = (*(q / 2 for q in range(198)), *(99 + q / 10 for q in range(10)))


@dataclass(frozen=True)
class LoadShape:
    """Connections and in-flight requests per connection, for each kind of run."""

    closed: tuple[int, int]
    open: tuple[int, int]


GRPC_SHAPE = LoadShape(closed=(8, 8), open=(4, 64))
HTTP1_SHAPE = LoadShape(closed=(4, 1), open=(4, 1))
# For servers of several processes sharing a port (SO_REUSEPORT): the kernel hands each
# *connection* to one process by a hash, so 4 connections split 3:1 or 4:0 more often than
# 2:2, and in the open loop (a fixed rate per connection) one process then gets 3/4 or all
# of the load and queues while the other idles. With 32 connections a split worse than
# 2:1 is rare. Closed loop: 128 requests in flight, the one-process case's 64 per process
# (with 64 in all, each process had half the work queued that the single one has, and
# measured 7-10 % below its saturation). Open loop: up to 256 in flight, as GRPC_SHAPE. The
# price: h2load's paced connections send in step, one request each per tick below 100
# req/s per connection, so each process meets bursts of ~16 instead of ~7: open-loop p50
# is higher.
SPREAD_GRPC_SHAPE = LoadShape(closed=(16, 8), open=(32, 8))


@dataclass(frozen=True)
class Case:
    """A target plus the real-client check that its answers are right (returns their size);
    `shape` overrides the load shape of the target's protocol."""

    name: str
    label: str
    target: Target
    check: Callable[[], int]
    shape: LoadShape | None = None


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
    server_cpu_pct: float = math.nan  # of one core, during the closed-loop runs
    load_cpu_pct: float = math.nan  # h2load's, same runs
    decisions_per_cpu_s: float = math.nan  # decisions per second of server CPU: cost, not share
    server: str = ""
    error: str | None = None
    latency_curve_ms: list[tuple[float, float]] = field(default_factory=list, repr=False)


@dataclass
class Entry:
    """A case in a running group, with what has been measured of it so far."""

    case: Case
    load_core: str | None
    figures: Figures
    server: Server
    target: Target | None = None
    maxima: list[float] = field(default_factory=list)
    unloaded_p50s: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)
    client_cpu: list[float] = field(default_factory=list)
    failed: int = 0


def measure_all(entries: Sequence[Entry], seconds: float, rounds: int, progress: Callable[[str], None]) -> None:
    """Fill in every entry's figures; a wrong answer or failing run becomes its `error`.

    The saturation runs and the unloaded runs are interleaved across cases in `rounds`
    rounds and each case's medians kept, so that load from other programs on the machine
    drifting over the run hits every contender alike and the ratios between them stay
    meaningful. (Measured once per case, the unloaded ratios moved by up to 0.45 between two runs
    of the same build.)
    """
    for entry in entries:
        _step(entry, _prepare)
    for round_no in range(rounds):
        for entry in entries:
            _step(entry, lambda e: _saturate(e, seconds / rounds))
            _step(entry, lambda e: _unloaded(e, seconds / 3 / rounds))
            progress(f"max {round_no + 1}/{rounds}: {entry.case.label}")
    for entry in entries:
        _step(entry, lambda e: _latency(e, seconds))
        progress(f"latency: {entry.case.label}")


def _step(entry: Entry, action: Callable[[Entry], None]) -> None:
    if entry.figures.error:
        return
    try:
        action(entry)
    except Exception as exc:
        entry.figures.error = f"{type(exc).__name__}: {exc}"


def _prepare(entry: Entry) -> None:
    """A real client call: is the answer right, and how large is a good one?"""
    good_bytes = entry.case.check()
    # Answers vary a little in size (ids, timestamps, JSON number widths); errors carry none.
    share = 0.85 if entry.case.target.http1 else 0.95
    entry.target = replace(entry.case.target, min_response_bytes=max(1, int(good_bytes * share)))


def _run(entry: Entry, seconds: float, kind: str, rate: float | None = None) -> LoadResult:
    assert entry.target is not None
    shape = entry.case.shape or (HTTP1_SHAPE if entry.target.http1 else GRPC_SHAPE)
    clients, streams = {"closed": shape.closed, "open": shape.open, "unloaded": (1, 1)}[kind]
    result = run_h2load(
        entry.target, seconds=seconds, clients=clients, streams=streams, rate=rate, core=entry.load_core
    )
    if result.requests_ok == 0:
        raise LoadError(f"no successful request in {seconds:.1f} s of {kind} load")
    entry.failed += result.requests_failed
    return result


def _saturate(entry: Entry, seconds: float) -> None:
    """One closed-loop run; also how busy the server and h2load were (is the server the limit?)."""
    cpu_before, wall_before = entry.server.cpu_seconds(), time.monotonic()
    result = _run(entry, seconds, "closed")
    server_cpu = entry.server.cpu_seconds() - cpu_before
    entry.server_cpu.append(100 * server_cpu / (time.monotonic() - wall_before))
    entry.client_cpu.append(result.client_cpu_pct)
    entry.maxima.append(result.rps)


def _unloaded(entry: Entry, seconds: float) -> None:
    """One request at a time: the p50 of one short run."""
    entry.unloaded_p50s.append(_run(entry, max(0.5, seconds), "unloaded").percentile(50.0))


def _latency(entry: Entry, seconds: float) -> None:
    """Open loop at half the median maximum, the median unloaded p50, a last real call."""
    assert entry.target is not None
    figures = entry.figures
    figures.max_rps = statistics.median(entry.maxima)
    figures.decisions_per_s = figures.max_rps * entry.target.decisions_per_request
    figures.server_cpu_pct = statistics.median(entry.server_cpu)
    figures.load_cpu_pct = statistics.median(entry.client_cpu)
    if figures.server_cpu_pct > 0:
        figures.decisions_per_cpu_s = figures.decisions_per_s / (figures.server_cpu_pct / 100)
    figures.open_rate = figures.max_rps / 2
    opened = _run(entry, seconds, "open", rate=figures.open_rate)
    figures.p50_ms, figures.p90_ms, figures.p99_ms = (opened.percentile(q) for q in PERCENTILES)
    figures.latency_curve_ms = [(q, opened.percentile(q)) for q in CURVE_POINTS]
    figures.unloaded_p50_ms = statistics.median(entry.unloaded_p50s)
    entry.case.check()
    figures.failed_requests = entry.failed
