"""Multiclass over catalog items against a ranker over (user, item) rows, as the catalog grows.

    python bench/formulation.py [--classes 40 300 1000] [--decisions 20000] [--rounds 5]

The old formulation grows one tree per catalog item per boosting round: training costs
about items x rows per round, and a decision walks items x rounds trees. The ranker grows
one tree per round over a decision's candidate rows (the clicked item and 30 others at
training time; at most the candidate limit when serving). Both are timed on random data
of the same shape as the real replay (40 features, 15 leaves, one thread): seconds per
boosting round, and µs per decision scored by Booster.predict (one row with every class
for the multiclass model, 100 candidate rows for the ranker). Trees are this benchmark's
shape only, not a fitted model's.
"""

from __future__ import annotations

import argparse
import sys
import time

import lightgbm as lgb
import numpy as np

PARAMS = {"num_leaves": 15, "min_data_in_leaf": 40, "max_bin": 63, "num_threads": 1, "verbose": -1, "seed": 0}
FEATURES = 40
NEGATIVES = 30
SERVED_CANDIDATES = 100


def per_round(train: lgb.Dataset, params: dict[str, object], rounds: int) -> tuple[float, lgb.Booster]:
    started = time.perf_counter()
    booster = lgb.train(params, train, num_boost_round=rounds)
    return (time.perf_counter() - started) / rounds, booster


def predict_us(booster: lgb.Booster, rows: np.ndarray, calls: int = 200) -> float:
    """µs per Booster.predict of `rows` on one thread."""
    started = time.perf_counter()
    for _ in range(calls):
        booster.predict(rows, num_threads=1)
    return (time.perf_counter() - started) / calls * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, nargs="+", default=[40, 300, 1000], help="catalog sizes")
    parser.add_argument("--decisions", type=int, default=20_000, help="training decisions")
    parser.add_argument("--rounds", type=int, default=5, help="boosting rounds timed")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{args.decisions} decisions, {FEATURES} features, {args.rounds} rounds timed, 1 thread")
    print(f"{'items':>6} {'multiclass s/round':>19} {'ranker s/round':>15} {'multiclass µs':>14} {'ranker µs':>10}")
    for classes in args.classes:
        x = rng.normal(size=(args.decisions, FEATURES))
        y = rng.integers(0, classes, args.decisions)
        multi_s, multi = per_round(
            lgb.Dataset(x, y), {**PARAMS, "objective": "multiclass", "num_class": classes}, args.rounds
        )
        group = NEGATIVES + 1
        rows = rng.normal(size=(args.decisions * group, FEATURES))
        labels = np.tile(np.r_[1, np.zeros(NEGATIVES)], args.decisions)
        rank_s, ranker = per_round(
            lgb.Dataset(rows, labels, group=[group] * args.decisions),
            {**PARAMS, "objective": "lambdarank"},
            args.rounds,
        )
        one = np.ascontiguousarray(x[:1])
        batch = np.ascontiguousarray(rows[: min(SERVED_CANDIDATES, classes)])
        multi_us, rank_us = predict_us(multi, one), predict_us(ranker, batch)
        print(f"{classes:>6} {multi_s:>19.3f} {rank_s:>15.3f} {multi_us:>14.0f} {rank_us:>10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
