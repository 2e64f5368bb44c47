"""Drive load with h2load (C, event loop): closed loop for the maximum, open loop for latency.

A Python load generator would saturate its own core long before a gRPC server here does,
so the figures would measure the client. h2load sends gRPC as plain HTTP/2: a body file
holding the 5-byte gRPC length prefix + the serialized request, and the two headers gRPC
requires. h2load cannot read the grpc-status trailer, so every run is checked twice: the
caller spot-checks real gRPC calls before and after, and here every counted response must
carry at least the DATA bytes of a real answer (an error status is trailers-only: no DATA).
"""

from __future__ import annotations

import math
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

GRPC_HEADERS = ("content-type: application/grpc", "te: trailers")
JSON_HEADERS = ("content-type: application/json",)
WARM_UP_MS = 500  # connections up, caches and thread pools warm; never counted


class LoadError(RuntimeError):
    """The load generator could not run, or the server's answers were not real answers."""


@dataclass(frozen=True)
class Target:
    """One endpoint with one request body, as h2load will hit it."""

    url: str
    body: Path
    headers: tuple[str, ...]
    http1: bool = False
    decisions_per_request: int = 1
    min_response_bytes: int = 1


@dataclass
class LoadResult:
    """What one h2load run measured (latencies in milliseconds, successful requests only)."""

    requests_ok: int
    requests_failed: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    client_cpu_pct: float = math.nan  # of one core, over the whole h2load run
    data_bytes: int = 0  # response bodies received (gRPC errors carry none: bench/overload.py counts answers by it)

    @property
    def rps(self) -> float:
        return self.requests_ok / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile; NaN when nothing succeeded."""
        if not self.latencies_ms:
            return math.nan
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
        return ordered[index]


def grpc_frame(message: bytes) -> bytes:
    """The gRPC wire framing of one uncompressed message."""
    return b"\x00" + len(message).to_bytes(4, "big") + message


def ensure_h2load() -> str:
    """Path of h2load, installing Debian's nghttp2-client when missing and allowed."""
    found = shutil.which("h2load")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise LoadError("h2load is missing: install it with `apt-get install -y nghttp2-client`")
    print("h2load missing: installing nghttp2-client with apt-get (about 10 s)")
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "nghttp2-client"],
    ):
        subprocess.run(command, check=True, capture_output=True, timeout=300)
    found = shutil.which("h2load")
    if not found:
        raise LoadError("apt-get installed nghttp2-client but h2load is still not on PATH")
    return found


def run_h2load(
    target: Target,
    *,
    seconds: float,
    clients: int,
    streams: int,
    rate: float | None = None,
    core: str | None = None,
) -> LoadResult:
    """Run h2load for `seconds` (closed loop, or open loop at `rate` requests/s in total)."""
    with tempfile.TemporaryDirectory(prefix="bench-h2load-") as tmp:
        log = Path(tmp) / "requests.tsv"
        main_ms = max(500, round(seconds * 1000))
        command = [ensure_h2load(), "-c", str(clients), "-m", str(streams)]
        warm_up_ms = min(WARM_UP_MS, main_ms // 2)
        command += ["-D", f"{main_ms}ms", "--warm-up-time", f"{warm_up_ms}ms"]
        command += ["-d", str(target.body), "--log-file", str(log), "-N", "10"]
        if rate is not None:
            command += ["--rps", f"{max(rate / clients, 0.1):.3f}"]
        if target.http1:
            command.append("--h1")
        for header in target.headers:
            command += ["-H", header]
        command.append(target.url)
        if core is not None:
            command = ["taskset", "-c", core, *command]
        cpu_before, wall_before = _children_cpu(), time.monotonic()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=main_ms / 1000 + 30, check=False)
        except subprocess.TimeoutExpired as exc:
            raise LoadError(f"h2load did not finish within {main_ms / 1000 + 30:.0f} s") from exc
        if done.returncode != 0:
            raise LoadError(f"h2load failed ({done.returncode}): {done.stderr.strip()[-400:]}")
        result = _parse(done.stdout, log, target, main_ms / 1000)
        result.client_cpu_pct = 100 * (_children_cpu() - cpu_before) / (time.monotonic() - wall_before)
        return result


def _children_cpu() -> float:
    """CPU seconds of waited-for child processes (h2load): proof it had headroom."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _parse(stdout: str, log: Path, target: Target, main_seconds: float) -> LoadResult:
    """Counts and latencies of the main phase (h2load drops the warm-up from both)."""
    counts = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed", stdout)
    data = re.search(r"\((\d+)\) data", stdout)
    if not (counts and data):
        raise LoadError(f"unexpected h2load output:\n{stdout[-800:]}")
    ok, failed = int(counts.group(1)), int(counts.group(2))
    if ok and int(data.group(1)) < ok * target.min_response_bytes:
        raise LoadError(
            f"{target.url}: {int(data.group(1)) / ok:.0f} bytes per response, expected at least "
            f"{target.min_response_bytes}: some answers were errors (trailers only) or not the checked "
            "answer (e.g. DEFAULT instead of MODEL; see the decision log under <out>/run)"
        )
    latencies = []
    for line in log.read_text().splitlines():
        columns = line.split("\t")
        if len(columns) >= 3 and columns[1].startswith("2"):
            latencies.append(int(columns[2]) / 1000)
    return LoadResult(ok, failed, main_seconds, latencies, data_bytes=int(data.group(1)))
