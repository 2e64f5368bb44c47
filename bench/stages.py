"""Where a Decide's time goes inside the running server, one request at a time.

    python bench/stages.py [--seconds 4] [--tracking-uri sqlite:///var/mlflow/mlflow.db]

Starts the service as `decision serve` does (App, gRPC server, the champion scored by its
compiled twin) in this process, pinned to one core, with a timer around each stage of the
request path. h2load, pinned to another core, sends the load benchmark's rule-path and
model-path requests one at a time (the "unloaded" figure of `make bench`). Then the same
requests go through the servicer in a tight loop in this process, where everything stays
in the CPU caches. Per stage: mean wall time per request in both, and their ratio, which
is how much of a stage's cost inside the server is the caches it finds cold between
requests. Each timer adds about 0.2 µs (tight loop) to 1 µs (in the server) to its stage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.decide_cases import SERVICE, body_file, decide_check, load_request
from bench.decide_micro import NoDeadline, add_app_arguments, start
from bench.load import GRPC_HEADERS, Target, run_h2load
from decision.api import convert, servicer
from decision.conditions import facts
from decision.pipeline.decider import Decider
from decision.runtime.server import build_server
from decision.sources.catalog import Catalog
from decision.sources.live import LiveProfiles
from decision.tiers.model import pool
from decision.tiers.model.ranker import Ranker
from decision.tiers.model.tier import ModelTier
from decision.tiers.rules.engine import Engine
from decision.tiers.rules.tier import RulesTier
from decision.v1 import decision_service_pb2 as pb

# (owner, attribute, label, depth): module attributes are looked up when called, so patching
# the module (or class) times every call; depth is which stage holds which.
STAGES: tuple[tuple[object, str, str, int], ...] = (
    (servicer.DecisionServicer, "Decide", "Decide handler", 0),
    (convert, "request_from_pb", "request_from_pb", 1),
    (servicer, "validate", "validate", 1),
    (RulesTier, "decide", "rules tier", 1),
    (facts, "build", "facts", 2),
    (Engine, "fire", "durable-rules", 2),
    (ModelTier, "decide", "model tier", 1),
    (LiveProfiles, "get", "profile lookup", 2),
    (Catalog, "eligible", "eligible content", 2),
    (pool, "take", "candidates", 2),
    (pool, "row_buffer", "feature rows", 2),
    (Ranker, "scores_of", "predict", 2),
    (pool, "best", "top-k", 2),
    (Decider, "_finish", "decision, metrics, log queue", 1),
    (convert, "response_to_pb", "response_to_pb", 1),
)
DEPTH = {label: depth for _, _, label, depth in STAGES}
REQUESTS = (("decide_rule", pb.DECISION_SOURCE_RULE), ("decide_model", pb.DECISION_SOURCE_MODEL))


class StageTimers:
    """Total wall time and calls per stage label, while installed."""

    def __init__(self) -> None:
        self.totals: dict[str, list[int]] = {label: [0, 0] for _, _, label, _ in STAGES}

    @contextmanager
    def installed(self) -> Iterator[None]:
        originals = [(owner, name, getattr(owner, name)) for owner, name, _, _ in STAGES]
        for (owner, name, original), (_, _, label, _) in zip(originals, STAGES, strict=True):
            setattr(owner, name, self._timed(original, self.totals[label]))
        try:
            yield
        finally:
            for owner, name, original in originals:
                setattr(owner, name, original)

    def reset(self) -> None:
        for total in self.totals.values():
            total[:] = [0, 0]

    def means_us(self, requests: int) -> dict[str, float]:
        """Mean µs per request (not per call) of every stage that ran."""
        return {label: nanos / requests / 1000 for label, (nanos, calls) in self.totals.items() if calls}

    @staticmethod
    def _timed(original: Callable[..., Any], total: list[int]) -> Callable[..., Any]:
        clock = time.perf_counter_ns

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = clock()
            try:
                return original(*args, **kwargs)
            finally:
                total[0] += clock() - started
                total[1] += 1

        return timed


def cores() -> tuple[str | None, str | None]:
    """(server core, load core): the last and the first this process may use, if two."""
    allowed = sorted(os.sched_getaffinity(0))
    return (str(allowed[-1]), str(allowed[0])) if len(allowed) > 1 else (None, None)


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, dict[str, dict[str, float]]]:
    server_core, load_core = cores()
    if server_core is not None:  # before any thread starts: they all inherit it
        os.sched_setaffinity(0, {int(server_core)})
    timers = StageTimers()
    with timers.installed():
        app = start(args, "native", workdir)
        running = build_server(app.settings, app.decider, app.outcomes, app.live)  # start() listens on 127.0.0.1:0
        running.mark_serving()
        try:
            return {
                name: _both(timers, running.port, running.servicer, name, source, args, workdir, load_core)
                for name, source in REQUESTS
            }
        finally:
            running.server.stop(0)
            app.stop()


def _both(
    timers: StageTimers,
    port: int,
    handler: servicer.DecisionServicer,
    name: str,
    source: pb.DecisionSource.ValueType,
    args: argparse.Namespace,
    workdir: Path,
    load_core: str | None,
) -> dict[str, dict[str, float]]:
    """One request kind: stage means inside the server (h2load, one at a time), then warm."""
    request = load_request(name)
    answer_bytes = decide_check(port, request, source)()  # the right tier decides, or this raises
    target = Target(
        f"http://127.0.0.1:{port}{SERVICE}/Decide",
        body_file(workdir, name, request.SerializeToString()),
        GRPC_HEADERS,
        min_response_bytes=int(answer_bytes * 0.95),
    )
    run_h2load(target, seconds=0.5, clients=1, streams=1, core=load_core)  # warm-up
    timers.reset()
    result = run_h2load(target, seconds=args.seconds, clients=1, streams=1, core=load_core)
    calls = timers.totals["Decide handler"][1]  # includes h2load's uncounted warm-up requests
    in_server = timers.means_us(calls)
    context = NoDeadline()
    for _ in range(args.loops // 10):
        handler.Decide(request, context)  # type: ignore[arg-type]
    timers.reset()
    for _ in range(args.loops):
        handler.Decide(request, context)  # type: ignore[arg-type]
    warm = timers.means_us(args.loops)
    unloaded = {"h2load p50 µs": 1000 * result.percentile(50.0)}
    return {"in_server_us": in_server, "tight_loop_us": warm, "unloaded": unloaded}


def report(figures: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = []
    for name, measured in figures.items():
        p50 = measured["unloaded"]["h2load p50 µs"]
        lines.append(f"{name} (unloaded p50 {p50:.0f} µs)")
        lines.append(f"  {'stage (µs per request)':34} {'in server':>10} {'tight loop':>11} {'ratio':>6}")
        for label, cold in measured["in_server_us"].items():
            warm = measured["tight_loop_us"].get(label, float("nan"))
            stage = "  " * DEPTH[label] + label
            lines.append(f"  {stage:34} {cold:10.1f} {warm:11.1f} {cold / warm:6.1f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_app_arguments(parser)
    parser.add_argument("--seconds", type=float, default=4.0, help="h2load run per request kind")
    parser.add_argument("--loops", type=int, default=20000, help="tight-loop calls per request kind")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-stages-") as tmp:
        figures = measure(args, Path(tmp))
    print(report(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
