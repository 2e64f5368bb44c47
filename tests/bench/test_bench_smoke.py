"""The benchmark harness works end to end: real servers, real h2load, real outputs.

These check the harness, never the figures (speed is not asserted in tests).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.decide_cases import SERVICE, body_file, load_request
from bench.load import GRPC_HEADERS, LoadError, Target, run_h2load
from bench.servers import running

REPO = Path(__file__).resolve().parents[2]
DECIDE_CASES = ("decide_rule", "decide_model", "report_outcome", "record_events", "decide_batch")


def test_tiny_run_measures_ceiling_and_decide_and_reports_a_missing_peer(tmp_path: Path) -> None:
    out = tmp_path / "results"
    command = [
        sys.executable, str(REPO / "bench" / "run.py"), "--out", str(out),
        "--only", "ceiling,decide,mlflow", "--duration", "0.5", "--rounds", "1",
        # main's server may not have every tier yet: this tests the harness, not the service
        "--any-source",
        # no registry there: the mlflow peer must be reported unavailable, the rest still runs
        "--tracking-uri", f"sqlite:///{tmp_path / 'registry' / 'mlflow.db'}",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=100, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    document = json.loads((out / "results.json").read_text())
    cases = {case["name"]: case for case in document["cases"]}
    for name in ("ceiling", *DECIDE_CASES):
        case = cases[name]
        assert case["error"] is None, case["error"]
        assert case["max_rps"] > 0
        assert case["unloaded_p50_ms"] > 0
        assert 0 < case["p50_ms"] <= case["p90_ms"] <= case["p99_ms"]
        assert case["peak_rss_mb"] > 0
        assert case["failed_requests"] == 0
        assert case["server_cpu_pct"] > 0
        assert case["decisions_per_cpu_s"] > 0
        assert len(case["latency_curve_ms"]) > 100
    batch = cases["decide_batch"]
    assert batch["decisions_per_s"] == pytest.approx(batch["max_rps"] * 64)
    assert "no registry at" in cases["mlflow_serve"]["error"]
    assert document["meta"]["versions"]["grpcio"]
    assert {t["name"] for t in document["targets"]} >= {"Decide rule path / bare gRPC ceiling (max req/s)"}
    assert (out / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (out / "table.txt").read_text()
    assert "bare gRPC ceiling" in table
    assert "mlflow models serve" in table
    assert "unavailable" in table


def test_error_answers_are_not_counted_as_throughput(tmp_path: Path) -> None:
    """A trailers-only gRPC error has no DATA; h2load would count it as a 200."""
    port_file = tmp_path / "port"
    command = [sys.executable, str(REPO / "bench" / "ceiling_server.py"), "--port-file", str(port_file)]
    with running("ceiling", command, log_dir=tmp_path, core=None, port_file=port_file) as server:
        body = body_file(tmp_path, "request", load_request("decide_model").SerializeToString())
        url = f"http://127.0.0.1:{server.port}{SERVICE}"
        good = Target(f"{url}/Decide", body, GRPC_HEADERS, min_response_bytes=100)
        assert run_h2load(good, seconds=0.5, clients=1, streams=4).requests_ok > 0
        wrong = Target(f"{url}/NoSuchMethod", body, GRPC_HEADERS, min_response_bytes=100)
        with pytest.raises(LoadError, match="some answers were errors"):
            run_h2load(wrong, seconds=0.5, clients=1, streams=4)


def test_run_has_help() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--help"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert "--duration" in done.stdout
    assert "--tracking-uri" in done.stdout


@dataclass(frozen=True)
class Bootstrapped:
    """A registry with a champion, and the catalog and profiles it was trained with."""

    uri: str
    catalog: Path
    profiles: Path

    def run(self, script: str, *args: str, cwd: Path) -> str:
        """Run bench/`script` on this champion; its standard output."""
        served = ["--tracking-uri", self.uri, "--catalog", str(self.catalog), "--profiles", str(self.profiles)]
        command = [sys.executable, str(REPO / "bench" / script), *served, *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False, cwd=cwd)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done.stdout


@pytest.fixture(scope="module")
def bootstrapped(tmp_path_factory: pytest.TempPathFactory) -> Bootstrapped:
    home = tmp_path_factory.mktemp("bootstrapped")
    uri = f"sqlite:///{home / 'mlflow.db'}"
    data, profiles = home / "data", home / "profiles.jsonl"
    # In a child: bootstrapping in this process would leave MLflow's global URIs pointing here.
    bootstrap = [
        sys.executable, "-m", "training", "bootstrap", "--tracking-uri", uri, "--data", str(data),
        "--profiles-out", str(profiles), "--events", "4000", "--seed", "5",
    ]  # fmt: skip
    subprocess.run(bootstrap, capture_output=True, timeout=120, check=True, cwd=home)
    return Bootstrapped(uri, data / "catalog.json", profiles)


def test_in_process_micro_benchmark_runs_on_a_bootstrapped_champion(bootstrapped: Bootstrapped, tmp_path: Path) -> None:
    out = tmp_path / "micro.json"
    printed = bootstrapped.run("decide_micro.py", "--calls", "200", "--repeats", "1", "--json", str(out), cwd=tmp_path)
    assert "decide_model_path" in printed
    figures = json.loads(out.read_text())["results_us"]
    assert set(figures) == {"native", "lightgbm"}
    assert all(value > 0 for scorer in figures.values() for value in scorer.values())


def test_stage_breakdown_times_every_stage_of_both_paths(bootstrapped: Bootstrapped, tmp_path: Path) -> None:
    out = tmp_path / "stages.json"
    printed = bootstrapped.run("stages.py", "--seconds", "0.5", "--loops", "200", "--json", str(out), cwd=tmp_path)
    assert "durable-rules" in printed
    figures = json.loads(out.read_text())
    rule, model = figures["decide_rule"], figures["decide_model"]
    assert "model tier" not in rule["in_server_us"]  # a rule decided: the model never ran
    assert set(model["in_server_us"]) == set(model["tight_loop_us"]) >= {"Decide handler", "model tier", "top-k"}
    for measured in (rule, model):
        assert measured["unloaded"]["h2load p50 µs"] > 0
        handler = measured["in_server_us"]["Decide handler"]
        assert all(0 < value <= handler for value in measured["in_server_us"].values())
