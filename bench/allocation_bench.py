"""Bandit allocation: the per-decision cost of choose(), the per-refresh cost of each mode, and the regret study.

    python bench/allocation_bench.py                  # everything (about 15 s)
    python bench/allocation_bench.py --only choose    # choose | refresh | regret, comma-separated

choose(): the mean over 1M calls with pre-drawn uniforms, minus the same loop calling a
function that does nothing (the loop's own cost), for 2, 5 and 20 arms (target: far below
5 µs). Refresh: one `Allocation.probabilities` per mode (what a state update pays per
segment). Regret: 100,000 simulated decisions over the default segments, every mode,
refresh every 500 decisions (target: Thompson <= 50 % of the fixed split's regret).
Results go to bench/results/allocation/ (JSON and the regret page).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "allocation"

from decision.tiers.experiments.allocation import Allocation, ArmProbabilities, ArmStats  # noqa: E402
from training.bandits.regret import FIXED_SPLIT, default_modes, simulate_regret  # noqa: E402
from training.bandits.regret_report import report_regret  # noqa: E402

CALLS = 1_000_000


def _nothing(uniform: float) -> int:
    return 0


def choose_cost() -> dict[str, float]:
    uniforms = np.random.default_rng(0).random(CALLS).tolist()
    clock = time.perf_counter
    started = clock()
    for u in uniforms:
        _nothing(u)
    loop_ns = (clock() - started) / CALLS * 1e9
    figures = {"loop_overhead_ns": loop_ns}
    for arms in (2, 5, 20):
        choose = ArmProbabilities.of(np.random.default_rng(arms).dirichlet(np.ones(arms)).tolist()).choose
        started = clock()
        for u in uniforms:
            choose(u)
        total_ns = (clock() - started) / CALLS * 1e9
        figures[f"choose_{arms}_arms_ns"] = total_ns - loop_ns
        print(f"choose() with {arms:>2} arms: {total_ns - loop_ns:6.0f} ns per decision (loop itself {loop_ns:.0f} ns)")
    return figures


def refresh_cost() -> dict[str, float]:
    figures = {}
    rng = np.random.default_rng(1)
    for arms in (2, 5, 20):
        stats = [ArmStats(5_000, int(k), float(k), float(k)) for k in rng.integers(100, 600, arms)]
        for name, mode in default_modes().items():
            allocation = Allocation.equal(mode, arms)
            started = time.perf_counter()
            for _ in range(20):
                allocation.probabilities(stats)
            ms = (time.perf_counter() - started) / 20 * 1e3
            figures[f"refresh_{name}_{arms}_arms_ms"] = ms
            print(f"refresh, {name:<20} {arms:>2} arms: {ms:7.3f} ms")
    return figures


def regret() -> dict[str, float]:
    started = time.perf_counter()
    run = simulate_regret()
    seconds = time.perf_counter() - started
    report_regret(run, RESULTS / "regret.html", print)
    thompson = run.final_regret("Thompson (Beta)") / run.final_regret(FIXED_SPLIT)
    verdict = "met" if thompson <= 0.5 else "NOT met"
    print(f"Thompson's regret is {thompson:.1%} of the fixed split's (target <= 50 %: {verdict}); {seconds:.1f} s")
    return {
        "seconds": seconds,
        "thompson_of_fixed": thompson,
        **{str(m): run.final_regret(str(m)) for m in run.cumulative},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="choose,refresh,regret", help="comma-separated: choose, refresh, regret")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    parts = {"choose": choose_cost, "refresh": refresh_cost, "regret": regret}
    figures: dict[str, dict[str, float]] = {}
    for part in args.only.split(","):
        if part not in parts:
            parser.error(f"unknown part {part!r}: use choose, refresh or regret")
        print(f"\n== {part} ==", flush=True)
        figures[part] = parts[part]()
    (RESULTS / "allocation.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nresults: {RESULTS}")


if __name__ == "__main__":
    main()
