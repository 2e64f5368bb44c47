"""Calibration and power of the experiment statistics, simulated (issue 16).

    python bench/experiment_stats.py                       # 200 runs each, writes bench/results/experiment_stats.*
    python bench/experiment_stats.py --runs 2000 --seed 7

A/A: two identical arms (baseline 5 %, 3,000 users a day per arm) read every day for 14, 21
and 28 days; the share of runs in which some daily look declares a difference, for the
always-valid intervals (sequential) and for the fixed-horizon z-test used the same way
(peeking), plus the z-test at the last look only. Power: 4 segments, a 10 % relative lift
planted in one, the others null, sized by `training.stats.power.plan` for the family of 5
comparisons (4 segments + all) with 6,000 eligible a day per segment; the share of runs whose
planted segment stops with "b wins" by the plan's last day. Targets: sequential A/A rate <= 0.08
at alpha 0.05; detection >= 0.80.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pandas as pd

from training.report.html import HtmlReport, new_figure
from training.report.table import render_frame
from training.stats.cli_helpers import plan_text
from training.stats.power import plan
from training.stats.simulation import AACalibration, PowerCheck, aa_calibration, power_check

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parent.parent
BASELINE = 0.05
USERS_PER_DAY_PER_ARM = 3_000
LOOK_DAYS = (14, 21, 28)
SEGMENTS = 4
DAILY_ELIGIBLE_PER_SEGMENT = 6_000


def _aa_rows(results: list[AACalibration]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "daily looks": [r.days for r in results],
            "runs": [r.runs for r in results],
            "z-test, peeking daily": [r.fixed_peeking_rate for r in results],
            "z-test, last look only": [r.fixed_last_look_only for r in results],
            "sequential, daily": [r.sequential_rate for r in results],
        }
    )


def _targets(aa: list[AACalibration], power: PowerCheck) -> pd.DataFrame:
    worst = max(r.sequential_rate for r in aa)
    rows = [
        ("A/A false-positive rate, sequential, daily looks (worst of 14/21/28)", worst, "<= 0.08", worst <= 0.08),
        (
            "A/A false-positive rate, z-test peeking daily, 28 looks",
            aa[-1].fixed_peeking_rate,
            "> 0.05",
            aa[-1].fixed_peeking_rate > 0.05,
        ),
        ("planted 10 % lift detected at the sequential plan", power.detected, ">= 0.80", power.detected >= 0.80),
    ]
    return pd.DataFrame(rows, columns=["target", "measured", "required", "met"])


def _aa_figure(result: AACalibration) -> Figure:
    figure = new_figure()
    axes = figure.add_subplot()
    days = np.arange(1, result.days + 1)
    axes.plot(days, result.fixed_by_day, label="fixed-horizon z-test, read daily")
    axes.plot(days, result.sequential_by_day, label="always-valid interval, read daily")
    axes.axhline(result.alpha, color="grey", linestyle="--", label=f"alpha {result.alpha}")
    axes.set_xlabel("day")
    axes.set_ylabel("share of A/A runs declared different so far")
    axes.legend(fontsize="small")
    return figure


def _power_figure(result: PowerCheck) -> Figure:
    figure = new_figure()
    axes = figure.add_subplot()
    axes.plot(np.arange(1, result.days + 1), result.detected_by_day, label="planted segment stopped with 'b wins'")
    axes.axhline(0.8, color="grey", linestyle="--", label="requested power 0.8")
    axes.set_xlabel("day")
    axes.set_ylabel("share of runs")
    axes.legend(fontsize="small")
    return figure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="simulated experiments per figure (default 200)")
    parser.add_argument("--seed", type=int, default=2025, help="random seed (default 2025)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="output folder")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    print(f"A/A: {args.runs} runs × {LOOK_DAYS} daily looks ...", flush=True)
    aa = [
        aa_calibration(args.runs, days, USERS_PER_DAY_PER_ARM, BASELINE, 0.05, args.seed + days) for days in LOOK_DAYS
    ]
    prescribed = plan(BASELINE, 0.10, 0.05, 0.8, SEGMENTS + 1, 2, DAILY_ELIGIBLE_PER_SEGMENT, 1.0)
    print(f"power: {args.runs} runs × {SEGMENTS} segments × {prescribed.sequential_days} days ...", flush=True)
    power = power_check(prescribed, SEGMENTS, args.runs, args.seed)
    elapsed = time.perf_counter() - started

    aa_table, targets = _aa_rows(aa), _targets(aa, power)
    power_table = pd.DataFrame(
        {
            "runs": [power.runs],
            "days": [power.days],
            "users/day/arm": [power.users_per_day_per_arm],
            "detected": [power.detected],
            "median days to detect": [power.median_days_to_detect],
            "null segments stopped": [power.null_segment_false_stops],
            "z-test power at its own plan": [power.fixed_power_at_fixed_plan],
        }
    )
    text = "\n\n".join(
        [
            "A/A false-positive rates (alpha 0.05, baseline 5 %, 3,000 users a day per arm)",
            render_frame(aa_table, text_columns=0, digits=3),
            "Plan for the power check (per segment)",
            plan_text(prescribed),
            "Power check",
            render_frame(power_table, text_columns=0, digits=3),
            render_frame(targets, text_columns=1, digits=3),
            f"simulation time {elapsed:.2f} s (seed {args.seed})",
        ]
    )
    print(text)

    page = HtmlReport("Experiment statistics: calibration and power")
    page.preformatted(text)
    page.figure(_aa_figure(aa[-1]), "A/A: share of runs declared different by each day (28 daily looks)")
    page.figure(_power_figure(power), "power: planted segment detected by each day")
    html = page.write(args.out / "experiment_stats.html")
    document = {
        "seed": args.seed,
        "aa": aa_table.to_dict(orient="records"),
        "power": power_table.to_dict(orient="records"),
        "targets": targets.to_dict(orient="records"),
        "elapsed_s": elapsed,
    }
    (args.out / "experiment_stats.json").write_text(json.dumps(document, indent=2, default=float))
    print(f"wrote {html} and {args.out / 'experiment_stats.json'}")
    return 0 if bool(targets["met"].all()) else 1


if __name__ == "__main__":
    sys.exit(main())
