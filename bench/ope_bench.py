"""Off-policy evaluation: speed on 1M decisions, accuracy against a known truth, and the Open Bandit Dataset check.

    python bench/ope_bench.py                    # everything (about 1-2 minutes)
    python bench/ope_bench.py --only speed       # speed | truth | obd, comma-separated
    python bench/ope_bench.py --decisions 200000 # a smaller speed run

Runs pinned to one core with one BLAS thread. Speed: a simulated 1M-decision log written
as a joined-table Parquet file, then read_joined + run_ope (all four estimators, 3-fold
reward model, bootstrap), timed by stage; then the bootstrap's worst case (real-valued
rewards, every row distinct). Truth: 100,000 simulated decisions, relative error of each
estimator against the exact value (targets: DR <= 0.10, SNIPS <= 0.15). OBD: the uniform
policy from the bts logs against the random logs (target: IPS and SNIPS within 1.96
combined SE). Tables are printed; JSON and HTML pages go to bench/results/ope/.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "ope"

from training.ope.bootstrap import bootstrap_sums  # noqa: E402
from training.ope.command import check_on_open_bandit_data  # noqa: E402
from training.ope.joined import read_joined  # noqa: E402
from training.ope.report import terminal_table, write_report  # noqa: E402
from training.ope.run import LOGGED, run_ope  # noqa: E402
from training.ope.simulate import make_world, simulate_logs  # noqa: E402

TRUTH_DECISIONS = 100_000
BARS = {"DR": 0.10, "SNIPS": 0.15}


def speed(decisions: int) -> dict[str, float]:
    """read_joined + run_ope on a simulated log in the joined table's format, timed by stage."""
    world = make_world(0)
    logged = simulate_logs(world, decisions, seed=1)
    path = RESULTS / f"joined-{decisions}.parquet"
    frame = logged.contexts.iloc[logged.context_index].reset_index(drop=True)
    frame = frame.assign(
        region="EU",
        channel="web",
        content_id=np.asarray(logged.actions)[logged.action],
        item_probability=logged.propensity,
        reward=logged.reward,
        source="MODEL",
        experiment_id="",
    )
    frame.to_parquet(path)
    started = time.perf_counter()
    read = read_joined(path)
    read_s = time.perf_counter() - started
    marks: list[tuple[str, float]] = []  # (first word of the stage message, when it started)
    started = time.perf_counter()
    result = run_ope(
        read,
        world.policy(world.target, "candidate"),
        progress=lambda m: marks.append((m.split()[0], time.perf_counter())),
    )
    ope_s = time.perf_counter() - started
    marks.append(("end", time.perf_counter()))
    print(terminal_table(result))
    write_report(result, RESULTS / "speed.html")
    figures = {"decisions": float(decisions), "read_s": read_s, "ope_s": ope_s, "total_s": read_s + ope_s}
    # stages: "target" = policy probabilities and weights, "reward" = reward model, "bootstrap" = bootstrap and the rest
    figures.update({f"stage_{name}_s": end - start for (name, start), (_, end) in itertools.pairwise(marks)})
    worst = np.column_stack([np.random.default_rng(2).gamma(2.0, 20.0, decisions), np.ones(decisions)])
    started = time.perf_counter()
    boot = bootstrap_sums(worst, seed=0)
    figures["bootstrap_worst_case_s"] = time.perf_counter() - started
    figures["bootstrap_worst_case_replicates"] = float(boot.replicates)
    print(
        f"\n{decisions:,} decisions: read {read_s:.1f} s + OPE {ope_s:.1f} s = {read_s + ope_s:.1f} s "
        "(target <= 30 s); "
        f"bootstrap with every row distinct: {figures['bootstrap_worst_case_s']:.1f} s "
        f"({boot.replicates} replicates)"
    )
    return figures


def truth() -> dict[str, float]:
    """Relative error of each estimator on 100,000 decisions against the exact value of the target policy."""
    world = make_world(0)
    value = world.value(world.target)
    result = run_ope(simulate_logs(world, TRUTH_DECISIONS, seed=1), world.policy(world.target, "candidate"))
    print(terminal_table(result))
    write_report(result, RESULTS / "truth.html")
    errors = {e.estimator: abs(e.value - value) / value for e in result.estimates}
    print(f"\ntrue value {value:.5f} (logging policy {world.value(world.logging):.5f})")
    for name, error in errors.items():
        bar = BARS.get(name)
        verdict = "" if bar is None else f"  (target <= {bar:.2f}: {'met' if error <= bar else 'NOT met'})"
        print(f"  {name:<32} relative error {error:.4f}{verdict}")
    return {
        "true_value": value,
        **{f"relative_error_{k if k != LOGGED else 'logged_mean'}": v for k, v in errors.items()},
    }


def open_bandit() -> dict[str, float]:
    check = check_on_open_bandit_data(RESULTS / "obd.html", print)
    z = {f"z_{row['campaign']}_{row['estimator']}": float(row["z"]) for row in check.rows.to_dict("records")}
    return {"passed": float(check.passed), **z}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="speed,truth,obd", help="comma-separated: speed, truth, obd")
    parser.add_argument("--decisions", type=int, default=1_000_000, help="decisions in the speed run")
    parser.add_argument("--core", type=int, default=0, help="the core to pin to")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})
    RESULTS.mkdir(parents=True, exist_ok=True)
    figures: dict[str, object] = {}
    for part in args.only.split(","):
        print(f"\n== {part} ==", flush=True)
        if part == "speed":
            figures["speed"] = speed(args.decisions)
        elif part == "truth":
            figures["truth"] = truth()
        elif part == "obd":
            figures["obd"] = open_bandit()
        else:
            parser.error(f"unknown part {part!r}: use speed, truth or obd")
    (RESULTS / "ope.json").write_text(json.dumps(figures, indent=2, default=float) + "\n")
    print(f"\nresults: {RESULTS}")


if __name__ == "__main__":
    main()
