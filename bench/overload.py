"""Overload: beyond max_concurrent_rpcs the answer is a fast RESOURCE_EXHAUSTED, and the service
answers again as soon as the load drops.

    python bench/overload.py --out bench/results/overload
    python bench/overload.py --max-concurrent-rpcs 256,32 --overload 4 --seconds 8

For each limit K: `decision serve --max-concurrent-rpcs K` (model path, pinned to
--server-core); its maximum rate by h2load (closed loop, K/2 calls in flight); then h2load
offers --overload times that rate (open loop, up to 4K calls in flight) for --seconds. A
probe in this process (pinned to --load-core with h2load) sends one Decide every 5 ms and
asks health on the main port and on the health-only port every 50 ms, from 1 s before the
load until --after seconds after it. h2load cannot tell a RESOURCE_EXHAUSTED (trailers
only, no DATA) from an answer, so latencies by status come from the probe's own calls; the
share of h2load's calls that were answered comes from the DATA bytes it received. Not part
of `make bench` (bench/run.py checks that every response is an answer; here most are
refusals on purpose): `make bench-overload`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import grpc
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.decide_cases import SERVICE, await_native_scorer, body_file, load_request
from bench.load import GRPC_HEADERS, LoadResult, Target, ensure_h2load, grpc_frame, run_h2load
from bench.servers import Server, free_port, running
from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc

REPO = Path(__file__).resolve().parent.parent
PROBE_DECIDE_SECONDS = 0.005
PROBE_HEALTH_SECONDS = 0.05
BEFORE_SECONDS = 1.0
MODEL_WAIT_SECONDS = 120.0
SETTLED_SECONDS = 1.0  # the first second of overload is not counted in its figures (queues filling)


@dataclass(frozen=True)
class Sample:
    kind: str  # decide, health_main, health_port
    sent: float  # seconds since the probe started
    latency_ms: float
    code: str


class Probe:
    """Calls on a fixed schedule from a thread of its own; each call's status and latency is kept."""

    def __init__(self, port: int, health_port: int) -> None:
        self._main = grpc.insecure_channel(f"127.0.0.1:{port}")
        self._health = grpc.insecure_channel(f"127.0.0.1:{health_port}")
        self._decide = pb_grpc.DecisionServiceStub(self._main).Decide
        self._checks = {
            "health_main": health_pb2_grpc.HealthStub(self._main).Check,
            "health_port": health_pb2_grpc.HealthStub(self._health).Check,
        }
        self._request = load_request("decide_model")
        self.samples: list[Sample] = []
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._outstanding = threading.Semaphore(0)  # released once per finished call
        self._sent = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        for _ in range(self._sent):  # every call finishes or times out (deadline 2 s)
            self._outstanding.acquire(timeout=3)
        self._main.close()
        self._health.close()

    def now(self) -> float:
        return time.monotonic() - self.started

    def _run(self) -> None:
        tick = 0
        while not self._stop.is_set():
            self._send("decide", self._decide, self._request)
            if tick % round(PROBE_HEALTH_SECONDS / PROBE_DECIDE_SECONDS) == 0:
                for kind, check in self._checks.items():
                    self._send(kind, check, health_pb2.HealthCheckRequest())
            tick += 1
            delay = self.started + tick * PROBE_DECIDE_SECONDS - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def _send(self, kind: str, call: grpc.UnaryUnaryMultiCallable[Any, Any], request: object) -> None:
        sent = time.monotonic()
        self._sent += 1
        future = call.future(request, timeout=2)

        def done(finished: Any) -> None:  # a grpc.Future that is also a grpc.Call
            code = finished.code().name if finished.exception() else "OK"
            if kind != "decide" and code == "OK" and finished.result().status != 1:  # 1 = SERVING
                code = "NOT_SERVING"
            self.samples.append(Sample(kind, sent - self.started, (time.monotonic() - sent) * 1000, code))
            self._outstanding.release()

        future.add_done_callback(done)


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def measure(limit: int, args: argparse.Namespace) -> dict[str, object]:
    """One limit: its maximum, then the overload run with the probe; the figures as a dict."""
    health_port = free_port()
    workdir = args.out / "run"
    port_file = workdir / f"overload-{limit}.port"
    command = [sys.executable, "-m", "decision", "serve", "--listen", "127.0.0.1:0", "--port-file", str(port_file)]
    command += ["--max-concurrent-rpcs", str(limit), "--health-listen", f"127.0.0.1:{health_port}"]
    metrics_port = free_port()
    command += ["--tracking-uri", args.tracking_uri, "--metrics-port", str(metrics_port)]
    command += ["--decision-log-path", "", "--outcome-log-path", ""]
    request = load_request("decide_model")
    with running(
        f"overload-{limit}", command, log_dir=workdir, core=args.server_core, port_file=port_file, cwd=REPO
    ) as server:
        answer = _first_answer(server.port, request, need_model=not args.any_source)
        if answer.source == pb.DECISION_SOURCE_MODEL:  # measure what the service settles on, as bench/run.py
            await_native_scorer(metrics_port, 1, server.log)
        good_bytes = len(grpc_frame(answer.SerializeToString()))
        body = body_file(workdir, f"overload-{limit}", request.SerializeToString())
        url = f"http://127.0.0.1:{server.port}{SERVICE}/Decide"
        in_flight = max(1, limit // 8)  # 4 connections x this = half the limit: no refusals yet
        checked = Target(url, body, GRPC_HEADERS, min_response_bytes=int(good_bytes * 0.95))
        with _cpu_rate(server) as max_cpu:
            maximum = run_h2load(checked, seconds=args.seconds / 2, clients=4, streams=in_flight, core=args.load_core)
        offered = maximum.rps * args.overload
        probe = Probe(server.port, health_port)
        probe.start()
        time.sleep(BEFORE_SECONDS)
        load_start = probe.now()
        flood = Target(url, body, GRPC_HEADERS)
        with _cpu_rate(server) as flood_cpu:
            loaded = run_h2load(
                flood, seconds=args.seconds, clients=4, streams=limit, rate=offered, core=args.load_core
            )
        load_stop = probe.now()
        time.sleep(args.after)
        probe.stop()
    plot_probe(args.out / f"overload-{limit}.png", limit, probe.samples, load_start, load_stop)
    figures = summarize(probe.samples, load_start, load_stop)
    return {
        "max_concurrent_rpcs": limit,
        "answered_by": pb.DecisionSource.Name(answer.source),
        "max_rps": maximum.rps,
        "offered_rps": offered,
        **h2load_figures(loaded, good_bytes, max_cpu[0] / maximum.rps, flood_cpu[0]),
        **figures,
    }


def _first_answer(port: int, request: pb.DecideRequest, need_model: bool) -> pb.DecideResponse:
    """A real answer; with `need_model`, wait until the model (loaded after start) gives it."""
    deadline = time.monotonic() + MODEL_WAIT_SECONDS
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        while True:
            answer: pb.DecideResponse = pb_grpc.DecisionServiceStub(channel).Decide(request, timeout=10)
            if not need_model or answer.source == pb.DECISION_SOURCE_MODEL:
                return answer
            if time.monotonic() > deadline:
                raise RuntimeError(f"no model answered within {MODEL_WAIT_SECONDS:.0f} s: check --tracking-uri")
            time.sleep(0.5)


@contextmanager
def _cpu_rate(server: Server) -> Iterator[list[float]]:
    """The server's CPU seconds per second over the block (in the list, once it ends)."""
    measured: list[float] = []
    cpu, wall = server.cpu_seconds(), time.monotonic()
    yield measured
    measured.append((server.cpu_seconds() - cpu) / (time.monotonic() - wall))


def h2load_figures(loaded: LoadResult, good_bytes: int, answer_cpu: float, cpu_rate: float) -> dict[str, float]:
    """h2load's calls per second, the share answered (refusals carry no DATA), and what a refusal
    costs the server: the CPU left over once the answers are paid for at the maximum run's
    price, shared among the refusals."""
    answered = loaded.data_bytes / good_bytes / loaded.seconds
    refused = max(loaded.rps - answered, 0.0)
    return {
        "h2load_rps": loaded.rps,
        "h2load_answered_pct": 100 * answered / loaded.rps if loaded.rps else float("nan"),
        "answer_cpu_us": answer_cpu * 1e6,
        "refusal_cpu_us": (cpu_rate - answered * answer_cpu) / refused * 1e6 if refused else float("nan"),
        "server_cpu_pct": 100 * cpu_rate,
    }


def summarize(samples: list[Sample], load_start: float, load_stop: float) -> dict[str, object]:
    """The probe's figures: refusal latency, answered latency, health, recovery."""
    during = [s for s in samples if load_start + SETTLED_SECONDS <= s.sent <= load_stop]
    decided = [s for s in during if s.kind == "decide"]
    refused = [s.latency_ms for s in decided if s.code == "RESOURCE_EXHAUSTED"]
    answered = [s.latency_ms for s in decided if s.code == "OK"]
    before = [s.latency_ms for s in samples if s.kind == "decide" and s.sent < load_start and s.code == "OK"]
    after_drop = [s for s in samples if s.kind == "decide" and s.sent >= load_stop]
    failures_after = [s.sent - load_stop for s in after_drop if s.code != "OK"]
    settled_after = [s.latency_ms for s in after_drop if s.sent >= load_stop + 1.0 and s.code == "OK"]

    def health_failed(kind: str) -> float:
        checks = [s for s in during if s.kind == kind]
        return 100 * sum(s.code != "OK" for s in checks) / len(checks) if checks else float("nan")

    return {
        "probe_calls": len(decided),
        "probe_refused_pct": 100 * len(refused) / len(decided) if decided else float("nan"),
        "refused_p50_ms": _percentile(refused, 50),
        "refused_p99_ms": _percentile(refused, 99),
        "refused_max_ms": max(refused, default=float("nan")),
        "answered_p50_ms": _percentile(answered, 50),
        "answered_p99_ms": _percentile(answered, 99),
        "other_codes": sorted({s.code for s in decided} - {"OK", "RESOURCE_EXHAUSTED"}),
        "health_main_failed_pct": health_failed("health_main"),
        "health_port_failed_pct": health_failed("health_port"),
        "recovered_after_s": max(failures_after, default=0.0),
        "before_p50_ms": _percentile(before, 50),
        "after_p50_ms": _percentile(settled_after, 50),
    }


def plot_probe(path: Path, limit: int, samples: list[Sample], load_start: float, load_stop: float) -> None:
    figure, axis = plt.subplots(figsize=(10, 4.5))
    for code, color in (("OK", "tab:green"), ("RESOURCE_EXHAUSTED", "tab:red")):
        points = [(s.sent - load_start, s.latency_ms) for s in samples if s.kind == "decide" and s.code == code]
        if points:
            xs, ys = zip(*points, strict=True)
            axis.scatter(xs, ys, s=4, color=color, label=f"probe Decide: {code}")
    axis.axvspan(0, load_stop - load_start, color="grey", alpha=0.15, label="overload")
    axis.set(yscale="log", xlabel="seconds since the load started", ylabel="latency ms")
    axis.set_title(f"decision serve --max-concurrent-rpcs {limit}: probe calls during and after overload")
    axis.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


COLUMNS = (
    ("K", "max_concurrent_rpcs", "{:d}"),
    ("max req/s", "max_rps", "{:,.0f}"),
    ("offered/s", "offered_rps", "{:,.0f}"),
    ("answered %", "h2load_answered_pct", "{:.0f}"),
    ("CPU µs answer/refusal", "cpu", ""),
    ("refused p50 ms", "refused_p50_ms", "{:.2f}"),
    ("refused p99 ms", "refused_p99_ms", "{:.2f}"),
    ("refused max ms", "refused_max_ms", "{:.1f}"),
    ("answered p50 ms", "answered_p50_ms", "{:.1f}"),
    ("answered p99 ms", "answered_p99_ms", "{:.1f}"),
    ("health main fail %", "health_main_failed_pct", "{:.0f}"),
    ("health port fail %", "health_port_failed_pct", "{:.0f}"),
    ("recovered after s", "recovered_after_s", "{:.2f}"),
    ("p50 before/after ms", None, ""),
)


def table(rows: list[dict[str, object]]) -> str:
    head = "".join(f"{title:>{len(title) + 2}}" for title, _, _ in COLUMNS)
    lines = [head, "-" * len(head)]
    for row in rows:
        cells = []
        for title, key, fmt in COLUMNS:
            if key is None:
                text = f"{row['before_p50_ms']:.2f}/{row['after_p50_ms']:.2f}"
            elif key == "cpu":
                text = f"{row['answer_cpu_us']:.0f}/{row['refusal_cpu_us']:.0f}"
            else:
                text = fmt.format(row[key])
            cells.append(f"{text:>{len(title) + 2}}")
        lines.append("".join(cells))
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "overload", help="output folder")
    parser.add_argument("--max-concurrent-rpcs", default="256,32", help="comma-separated limits to measure")
    parser.add_argument("--overload", type=float, default=4.0, help="offered load, in multiples of the maximum")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds of overload per limit")
    parser.add_argument("--after", type=float, default=3.0, help="seconds the probe goes on after the load")
    parser.add_argument("--tracking-uri", default=f"sqlite:///{REPO / 'var' / 'mlflow' / 'mlflow.db'}")
    parser.add_argument("--any-source", action="store_true", help="measure without a model (DEFAULT answers)")
    parser.add_argument("--server-core", default="1", help="CPU the server is pinned to")
    parser.add_argument("--load-core", default="0", help="CPU h2load and the probe are pinned to")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ensure_h2load()
    args.out.mkdir(parents=True, exist_ok=True)
    os.sched_setaffinity(0, {int(args.load_core)})  # the probe stays off the server's core
    rows = [measure(int(limit), args) for limit in args.max_concurrent_rpcs.split(",")]
    text = table(rows)
    headline = f"overload x{args.overload:g} for {args.seconds:g} s, load avg {os.getloadavg()[0]:.1f}"
    print(f"\n{headline}\n\n{text}")
    (args.out / "table.txt").write_text(f"{headline}\n\n{text}\n")
    document = {"settings": {key: str(value) for key, value in vars(args).items()}, "rows": rows}
    (args.out / "results.json").write_text(json.dumps(document, indent=2))
    print(f"\nwrote {args.out / 'table.txt'}, results.json and overload-<K>.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
