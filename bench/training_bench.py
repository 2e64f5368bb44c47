"""Training time and peak memory versus event-log size and catalog size.

    python bench/training_bench.py                                  # 100k and 1M events, 40 items
    python bench/training_bench.py --sizes 100000 1000000 --items-per-category 125   # 1,000 items

Each size is generated once into bench/results/data-<size>-<items>/ (reused on later runs),
then trained in a fresh child process so its peak RSS is the training pipeline's alone:
load + validate, the spec, the point-in-time replay (candidate rows), the LightGBM
ranker fit (defaults: ≤ 60 rounds, early stopping, 1 thread) and evaluation. MLflow
logging is not included (it does not grow with the data beyond the test-set artifact).
Results go to bench/results/training-<items>.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def train_one(data: Path) -> dict[str, float]:
    """Run in the child: the training pipeline on one data folder, timed by stage."""
    sys.path.insert(0, str(ROOT))
    import pandas as pd

    from training.defaults import pseudonymizer
    from training.features import build
    from training.io import DataPaths, load
    from training.pipeline import Prepared, decision_times, evaluate_booster
    from training.spec import learn
    from training.split import cuts, temporal
    from training.train import fit

    out: dict[str, float] = {}
    t = time.perf_counter()
    inputs = load(DataPaths.in_dir(data), pseudonymizer(data / "user.key"))
    out["load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    times = decision_times(inputs.events, inputs.catalog)
    cut_valid, _ = cuts(times)
    spec = learn(inputs.events[inputs.events["timestamp"] < times[cut_valid]], inputs.catalog)
    replay = build(inputs.events, inputs.catalog, spec, pd.Timestamp(times[cut_valid]).to_pydatetime())
    out["features_s"] = time.perf_counter() - t
    split = temporal(replay.dataset)
    t = time.perf_counter()
    booster, _ = fit(split.train, split.valid)
    out["fit_s"] = time.perf_counter() - t
    t = time.perf_counter()
    prepared = Prepared(inputs, replay.dataset, split, replay.spec, len(replay.profiles))
    evaluation = evaluate_booster(booster, prepared)
    out["evaluate_s"] = time.perf_counter() - t
    out["total_s"] = sum(out.values())
    out.update(
        events=len(inputs.events),
        items=len(spec.items),
        decisions=len(replay.dataset),
        rows=len(replay.dataset.items),
        train_rows=len(split.train.items),
        trees=booster.num_trees(),
        users=len(replay.profiles),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        model_hr1=evaluation.overall["model"]["hr1"],
        truth_hr1=evaluation.overall["ground_truth"]["hr1"],
        popularity_hr1=evaluation.overall["popularity"]["hr1"],
    )
    return out


def generate(size: int, per_category: int) -> Path:
    data = RESULTS / f"data-{size}-{per_category * 8}"
    if not (data / "catalog.json").exists():
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "training",
                "generate",
                "--events",
                str(size),
                "--out",
                str(data),
                "--items-per-category",
                str(per_category),
            ],
            check=True,
            cwd=ROOT,
        )
        (data / "generate_seconds").write_text(f"{time.perf_counter() - started:.1f}\n")
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--items-per-category", type=int, default=5, help="8 categories: 5 = 40 items, 125 = 1,000")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(train_one(args.child)))
        return
    rows = []
    for size in args.sizes:
        data = generate(size, args.items_per_category)
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(data)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        row = json.loads(child.stdout.strip().splitlines()[-1])
        row["generate_s"] = float((data / "generate_seconds").read_text())
        rows.append(row)
        print(
            f"{size:>9} events: {row['total_s']:.1f} s, peak {row['peak_rss_mb']:.0f} MB",
            flush=True,
        )
    keys = [
        "events",
        "items",
        "decisions",
        "rows",
        "trees",
        "generate_s",
        "load_s",
        "features_s",
        "fit_s",
        "evaluate_s",
        "total_s",
        "peak_rss_mb",
        "model_hr1",
        "popularity_hr1",
        "truth_hr1",
    ]
    print("\n" + " | ".join(keys))
    for row in rows:
        print(
            " | ".join(
                f"{row[k]:.3f}"
                if isinstance(row[k], float) and row[k] < 1
                else f"{row[k]:.0f}"
                if isinstance(row[k], float)
                else str(row[k])
                for k in keys
            )
        )
    for a, b in itertools.pairwise(rows):
        print(
            f"\n{a['events']} -> {b['events']} events (x{b['events'] / a['events']:.1f}): "
            f"training time x{b['total_s'] / a['total_s']:.1f}, "
            f"features x{b['features_s'] / a['features_s']:.1f}, "
            f"fit x{b['fit_s'] / a['fit_s']:.1f} (trees x{b['trees'] / a['trees']:.1f}, "
            f"per tree x{b['fit_s'] / b['trees'] / (a['fit_s'] / a['trees']):.1f}), "
            f"peak memory x{b['peak_rss_mb'] / a['peak_rss_mb']:.1f}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"training-{args.items_per_category * 8}.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
