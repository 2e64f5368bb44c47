"""Micro-benchmark of the model tier's predict paths: µs per call, single row and 64-row batch.

    python bench/model_micro.py [--rounds 10 --classes 40 --features 40] [--json out.json]

Builds a synthetic multiclass model (rounds × classes trees; the default 10 × 40 = 400 trees
on 40 features, trained on random data in a few seconds), then times Booster.predict against
the Ranker's fast single-row C API path and the model compiled to native code (lleaves, about
10 s to compile), and 64-row batches. Speed lives here, not in tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import lightgbm as lgb
import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from decision.tiers.model.artifact import LocalModel
from decision.tiers.model.compiled import compile_for
from decision.tiers.model.ranker import Ranker


def build_model(rounds: int, classes: int, features: int, workdir: Path) -> tuple[Path, int]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(classes * 100, features))
    y = (np.abs(x[:, :4] @ np.array([5.0, 3.0, 2.0, 1.0])).astype(int)) % classes
    params = {"objective": "multiclass", "num_class": classes, "num_leaves": 31, "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=rounds)
    path = workdir / "model.lgb"
    booster.save_model(path)
    return path, booster.num_trees()


def time_calls(fn: Callable[[int], object], calls: int, repeats: int) -> dict[str, float]:
    """µs per call: median and best of `repeats` timed loops of `calls` calls each."""
    per_call = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for i in range(calls):
            fn(i)
        per_call.append((time.perf_counter_ns() - start) / calls / 1000)
    return {"median_us": statistics.median(per_call), "best_us": min(per_call)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="boosting rounds (trees per class)")
    parser.add_argument("--classes", type=int, default=40, help="content ids (classes)")
    parser.add_argument("--features", type=int, default=40, help="feature columns")
    parser.add_argument("--calls", type=int, default=2000, help="calls per timed loop")
    parser.add_argument("--repeats", type=int, default=5, help="timed loops per case")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        model_file, trees = build_model(args.rounds, args.classes, args.features, Path(tmp))
        local = LocalModel(
            name="bench",
            version="1",
            path=model_file.parent,
            feature_names=tuple(f"f{i}" for i in range(args.features)),
            feature_set_version="bench",
            classes=tuple(f"content-{i}" for i in range(args.classes)),
            input_example=None,
            sha256=hashlib.sha256(model_file.read_bytes()).hexdigest(),
        )
        booster = lgb.Booster(model_file=str(model_file))
        ranker = Ranker.load(local)
        native = Ranker.load(local).using(compile_for(local, 600, np.asarray(booster.predict(local.example_rows()))))
    rows = np.random.default_rng(1).normal(size=(256, args.features))
    single = [rows[i : i + 1] for i in range(len(rows))]
    batches = [rows[i : i + 64] for i in range(0, 256, 64)]
    eligible = ranker.eligible_indices(local.classes[::2])
    ranker.warm(rows[:4])
    fast = np.stack([ranker.predict_proba(row) for row in rows])
    error = float(np.abs(fast - booster.predict(rows)).max())
    native_error = float(np.abs(np.stack([native.predict_proba(row) for row in rows]) - booster.predict(rows)).max())

    cases: dict[str, Callable[[int], object]] = {
        "booster_predict_1row": lambda i: booster.predict(single[i % 256]),
        "booster_predict_1row_num_threads_1": lambda i: booster.predict(single[i % 256], num_threads=1),
        "fast_predict_proba_1row": lambda i: ranker.predict_proba(rows[i % 256]),
        "fast_predict_proba_plus_top5": lambda i: ranker.top_k(ranker.predict_proba(rows[i % 256]), eligible, 5),
        "native_predict_proba_1row": lambda i: native.predict_proba(rows[i % 256]),
        "native_predict_proba_plus_top5": lambda i: native.top_k(native.predict_proba(rows[i % 256]), eligible, 5),
        "booster_predict_64rows": lambda i: booster.predict(batches[i % 4]),
        "booster_predict_64rows_num_threads_1": lambda i: booster.predict(batches[i % 4], num_threads=1),
        "ranker_predict_batch_64rows": lambda i: ranker.predict_batch(batches[i % 4]),
    }
    results: dict[str, dict[str, float]] = {}
    for name, fn in tqdm(cases.items(), desc="timing", unit="case"):
        calls = args.calls // 10 if "64rows" in name else args.calls
        results[name] = time_calls(fn, calls, args.repeats)

    print(
        f"model: {trees} trees, {args.classes} classes, {args.features} features, "
        f"lightgbm {lgb.__version__}; max |fast - Booster.predict| = {error:.2e}, "
        f"max |native - Booster.predict| = {native_error:.2e}"
    )
    print(f"{'case':40} {'median µs':>10} {'best µs':>10}")
    for name, figures in results.items():
        print(f"{name:40} {figures['median_us']:10.1f} {figures['best_us']:10.1f}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "model": {
                        "trees": trees,
                        "classes": args.classes,
                        "features": args.features,
                        "lightgbm": lgb.__version__,
                        "max_abs_diff_fast_vs_booster": error,
                        "max_abs_diff_native_vs_booster": native_error,
                    },
                    "calls": args.calls,
                    "repeats": args.repeats,
                    "results_us": results,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
