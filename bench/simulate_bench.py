"""The traffic simulator against a local `decision serve`: decisions per second by batch size, and a model run.

    python bench/simulate_bench.py                      # rules + defaults, batch 16/64/256 (about 1 minute)
    python bench/simulate_bench.py --model              # also a small champion and its world's users (+ ~1-2 min)
    python bench/simulate_bench.py --decisions 5000 --batches 64

The server runs pinned to core 1 (`taskset`), the simulator to core 0, so the figures
say what one core of each reaches. Each row: decisions/s of the whole loop (DecideBatch,
ground truth, reactions, ReportOutcomeBatch), the simulator's and the server's CPU
seconds per 1,000 decisions. With --model, `training bootstrap` trains a champion on a
small generated world (seed 7) into a registry under the results folder, the server
serves it, and the simulator replays that world's users (their profiles are in the
snapshot), so the table shows the model's true click rate against the rules' and the
defaults'. Results go to bench/results/simulate/ (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "simulate"
BENCH_USER_KEY = "5eed" * 16  # a fixed secret: training and the server pseudonymize alike

from bench.servers import Server, running  # noqa: E402
from training.traffic.driver import simulate  # noqa: E402
from training.traffic.population import SimUser  # noqa: E402
from training.traffic.summary import SimulationSummary  # noqa: E402
from training.traffic.world_users import users_from  # noqa: E402


def serve(state: Path, env: dict[str, str]) -> AbstractContextManager[Server]:
    """`decision serve` with the shipped rules and everything else in `state`, pinned to core 1."""
    environment = {
        "DECISION_RULES_PATH": str(ROOT / "rules"),
        "DECISION_DECISION_LOG_PATH": str(state / "decisions.jsonl"),
        "DECISION_OUTCOME_LOG_PATH": str(state / "outcomes.jsonl"),
        "DECISION_METRICS_PORT": "0",
        "DECISION_TRACKING_URI": f"sqlite:///{state / 'mlflow.db'}",
        "DECISION_MODEL_CACHE_DIR": str(state / "models"),
        "DECISION_CATALOG_PATH": str(state / "catalog.json"),
        "DECISION_PROFILES_PATH": str(state / "profiles.jsonl"),
        "DECISION_USER_KEY": BENCH_USER_KEY,
        **env,
    }
    port_file = state / "port"
    command = [sys.executable, "-m", "decision", "serve", "--listen", "127.0.0.1:0", "--port-file", str(port_file)]
    return running("decision", command, log_dir=state, core="1", port_file=port_file, env=environment, cwd=ROOT)


def measure(server: Server, scenario: str, decisions: int, batch: int, **options: Any) -> dict[str, Any]:
    cpu_server, cpu_client = server.cpu_seconds(), time.process_time()
    summary: SimulationSummary = simulate(
        f"127.0.0.1:{server.port}", decisions, seed=1, batch_size=batch, progress=False, **options
    )
    server_cpu, client_cpu = server.cpu_seconds() - cpu_server, time.process_time() - cpu_client
    row = {
        "scenario": scenario,
        "batch": batch,
        "decisions": summary.asked,
        "seconds": round(summary.elapsed_seconds, 2),
        "decisions_per_s": round(summary.decisions_per_second),
        "client_cpu_s_per_1k": round(1000 * client_cpu / summary.asked, 3),
        "server_cpu_s_per_1k": round(1000 * server_cpu / summary.asked, 3),
        "sources": summary.count_by("source"),
        "mean_p_click": round(summary.mean_p_click, 4),
        "refused": summary.refused + summary.outcomes.refused,
    }
    print(
        f"{scenario:<14} batch {batch:>4}: {row['decisions_per_s']:>6,} decisions/s  "
        f"client {row['client_cpu_s_per_1k']:.3f} s/1k  server {row['server_cpu_s_per_1k']:.3f} s/1k  "
        f"sources {row['sources']}  mean true P(click) {row['mean_p_click']:.4f}"
    )
    return {"row": row, "summary": summary}


def rules_runs(decisions: int, batches: list[int]) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp), {}) as server:
        simulate(f"127.0.0.1:{server.port}", 500, seed=0, progress=False)  # warm-up: connections, rule engine
        for batch in batches:
            rows.append(measure(server, "rules+default", decisions, batch)["row"])
    return rows


def model_run(decisions: int, events: int) -> list[dict[str, Any]]:
    from training.workflow import run_bootstrap

    state = RESULTS / "model-world"
    data, profiles = state / "data", state / "profiles.jsonl"
    os.environ["DECISION_USER_KEY"] = BENCH_USER_KEY
    run_bootstrap(f"sqlite:///{state / 'mlflow.db'}", "next_best_content", data, profiles, events, 7, lambda _: None)
    env = {"DECISION_CATALOG_PATH": str(data / "catalog.json"), "DECISION_PROFILES_PATH": str(profiles)}
    with serve(state, env) as server:
        population = users_from(data, seed=1)
        wait_for_model(server, population)
        measured = measure(server, "model (world)", decisions, 64, population=population)
    summary: SimulationSummary = measured["summary"]
    print("\n" + summary.table())
    return [measured["row"] | {"by_source": summary.by("source").to_dict("records")}]


def wait_for_model(server: Server, population: list[SimUser], timeout_s: float = 300) -> None:
    """Until the server's model answers (it loads and compiles the champion after it starts serving)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        probe = simulate(f"127.0.0.1:{server.port}", 64, seed=0, progress=False, population=population)
        if "MODEL" in probe.count_by("source"):
            return
        time.sleep(1)
    raise RuntimeError(f"no MODEL decision within {timeout_s:.0f} s; see {server.log}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=20_000, help="decisions per row")
    parser.add_argument("--batches", default="16,64,256", help="DecideBatch sizes, comma-separated")
    parser.add_argument("--model", action="store_true", help="also bootstrap a small champion and simulate its users")
    parser.add_argument("--events", type=int, default=30_000, help="events of the model's world (with --model)")
    args = parser.parse_args()
    os.sched_setaffinity(0, {0})
    rows = rules_runs(args.decisions, [int(b) for b in args.batches.split(",")])
    if args.model:
        rows += model_run(args.decisions, args.events)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "simulate.json").write_text(json.dumps(rows, indent=2, default=str) + "\n")
    print(f"\nresults: {RESULTS / 'simulate.json'}")


if __name__ == "__main__":
    main()
