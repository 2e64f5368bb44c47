"""Micro-benchmark of the ranker's scorers: µs per request-sized batch of candidate rows.

    python bench/model_micro.py [--trees 100 --features 40 --rows 17,40,100] [--json out.json]

Builds a synthetic lambdarank model (--trees trees of 15 leaves on --features features,
trained on random data in a few seconds), then times Booster.predict against the
Ranker's LightGBM C API call and the model compiled to native code (lleaves, seconds to
compile), for batches of as many rows as a decision has candidates. Speed lives here, not
in tests.
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
from tests.decision.tiers.model.builders import SPEC


def build_model(trees: int, features: int, workdir: Path) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, features))
    y = (x[:, :4] @ np.array([5.0, 3.0, 2.0, 1.0]) + rng.normal(size=4000) > 3).astype(int)
    params = {"objective": "lambdarank", "num_leaves": 15, "min_data_in_leaf": 5, "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(x, y, group=[40] * 100), num_boost_round=trees)
    path = workdir / "model.lgb"
    booster.save_model(path)
    return path


def time_calls(fn: Callable[[int], object], calls: int, repeats: int) -> dict[str, float]:
    """µs per call: median and best of `repeats` timed loops of `calls` calls each."""
    per_call = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for i in range(calls):
            fn(i)
        per_call.append((time.perf_counter_ns() - start) / calls / 1000)
    return {"median_us": statistics.median(per_call), "best_us": min(per_call)}


def _cycled(score: Callable[[np.ndarray], object], batches: list[np.ndarray]) -> Callable[[int], object]:
    """Call i scores batch i modulo the batches (each batch is a decision's candidate rows)."""
    return lambda i: score(batches[i % len(batches)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=int, default=100, help="boosting rounds (one tree each)")
    parser.add_argument("--features", type=int, default=40, help="feature columns")
    parser.add_argument("--rows", default="17,40,100", help="batch sizes (candidates per decision)")
    parser.add_argument("--calls", type=int, default=2000, help="calls per timed loop")
    parser.add_argument("--repeats", type=int, default=5, help="timed loops per case")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        model_file = build_model(args.trees, args.features, Path(tmp))
        local = LocalModel(
            name="bench",
            version="1",
            path=model_file.parent,
            feature_names=tuple(f"f{i}" for i in range(args.features)),
            feature_set_version="bench",
            spec=SPEC,
            input_example=None,
            sha256=hashlib.sha256(model_file.read_bytes()).hexdigest(),
        )
        booster = lgb.Booster(model_file=str(model_file))
        ranker = Ranker.load(local)
        native = Ranker.load(local).using(compile_for(local, 600, np.asarray(booster.predict(local.example_rows()))))
    data = np.random.default_rng(1).normal(size=(1000, args.features))
    errors = {
        "lightgbm": float(np.abs(np.array(ranker.scores(data)) - booster.predict(data)).max()),
        "native": float(np.abs(np.array(native.scores(data)) - booster.predict(data)).max()),
    }
    cases: dict[str, Callable[[int], object]] = {}
    for size in (int(n) for n in args.rows.split(",")):
        batches = [np.ascontiguousarray(data[i : i + size]) for i in range(0, 1000 - size, size)]
        cases[f"booster_predict_{size}rows_num_threads_1"] = _cycled(
            lambda b: booster.predict(b, num_threads=1), batches
        )
        cases[f"lightgbm_c_api_{size}rows"] = _cycled(ranker.scores, batches)
        cases[f"native_{size}rows"] = _cycled(native.scores, batches)
    results: dict[str, dict[str, float]] = {}
    for name, fn in tqdm(cases.items(), desc="timing", unit="case"):
        results[name] = time_calls(fn, args.calls // 10 if name.startswith("booster") else args.calls, args.repeats)

    print(
        f"model: {args.trees} trees, {args.features} features, lightgbm {lgb.__version__}; "
        f"max |C API - Booster.predict| = {errors['lightgbm']:.2e}, "
        f"max |native - Booster.predict| = {errors['native']:.2e}"
    )
    print(f"{'case':40} {'median µs':>10} {'best µs':>10}")
    for name, figures in results.items():
        print(f"{name:40} {figures['median_us']:10.1f} {figures['best_us']:10.1f}")
    if args.json:
        model = {"trees": args.trees, "features": args.features, "lightgbm": lgb.__version__, "max_abs_diff": errors}
        payload = {"model": model, "calls": args.calls, "repeats": args.repeats, "results_us": results}
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
