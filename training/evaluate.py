"""Offline evaluation: the model against simple baselines (and, on synthetic data, the truth).

Every method scores the same candidate rows of each test decision: the content the
catalog allows there, less what the user already engaged with and may not see again,
cut to the candidate stage's limit, exactly what the service ranks. The label's rank
among them gives hit rates HR@1/3/5 and NDCG@3 (one relevant item); a label that is not a
candidate at all (shown nowhere the service could show it) is a miss for every method.
Each figure comes with a 95 % percentile bootstrap interval over decisions.

Baselines, all point in time (as of the decision, from the same rows):
popularity (the item's share of all clicks so far), recent popularity (its share over
the recent window, overall popularity breaking ties) and personal (the user's own clicks
on the item, popularity breaking ties).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from decision.sources.features import FEATURE_NAMES
from training.features import Dataset
from training.ope.bootstrap import bootstrap_sums, percentile_interval

METRICS = ("hr1", "hr3", "hr5", "ndcg3")
_TIE = 1e-6  # baseline tie-breakers add at most this much of a second score
_MISS = 1 << 30


@dataclass(frozen=True)
class Evaluation:
    """Per-method metrics overall (with intervals) and per segment, plus the rows behind them."""

    overall: dict[str, dict[str, float]]  # method -> metric -> value
    intervals: dict[str, dict[str, tuple[float, float]]]  # method -> metric -> (low, high)
    segments: pd.DataFrame  # segment, value, rows, then one hr3 column per method
    decisions: int

    def metrics(self) -> dict[str, float]:
        """Flat `method_metric` names for MLflow."""
        return {f"{m}_{k}": v for m, row in self.overall.items() for k, v in row.items()}

    def table(self) -> str:
        """Plain-text tables: overall with intervals, then HR@3 by segment."""
        head = ["method", *METRICS]
        body = [
            [m, *(f"{row[k]:.4f} [{self.intervals[m][k][0]:.3f}, {self.intervals[m][k][1]:.3f}]" for k in METRICS)]
            for m, row in self.overall.items()
        ]
        seg = self.segments
        seg_head = ["segment", "value", "rows", *(f"{m} hr3" for m in self.overall)]
        seg_body = [
            [str(r.segment), str(r.value), str(r.rows)] + [f"{getattr(r, m):.4f}" for m in self.overall]
            for r in seg.itertuples()
        ]
        note = f"{self.decisions} test decisions; [95 % bootstrap interval]"
        return f"{_render(head, body)}\n{note}\n\n{_render(seg_head, seg_body)}"


def ranks(data: Dataset, scores: np.ndarray) -> np.ndarray:
    """0-based rank of each decision's label among its rows; ties go to the earlier row, never
    the label. A decision whose label is not a candidate gets a rank no cutoff reaches."""
    found = data.label_row >= 0
    label_at = np.where(found, data.starts[:-1] + np.maximum(data.label_row, 0), 0)
    sizes = data.sizes
    if not len(scores):
        return np.full(len(data), _MISS)
    label_score = np.repeat(scores[label_at], sizes)
    position = np.arange(len(scores)) - np.repeat(data.starts[:-1], sizes)
    label_pos = np.repeat(data.label_row, sizes)
    before = (scores > label_score) | ((scores == label_score) & (position < label_pos))
    ahead = np.bincount(np.repeat(np.arange(len(data)), sizes), weights=before, minlength=len(data))
    return np.where(found, ahead.astype(np.int64), _MISS)


def hits(rank: np.ndarray) -> np.ndarray:
    """Per decision: HR@1, HR@3, HR@5 and NDCG@3 terms (decisions x 4)."""
    ndcg = np.where(rank < 3, 1.0 / np.log2(np.minimum(rank, 3) + 2.0), 0.0)
    return np.column_stack([rank < 1, rank < 3, rank < 5, ndcg]).astype(np.float64)


def baselines(data: Dataset) -> dict[str, np.ndarray]:
    """Point-in-time popularity, recent popularity and personal history, from the rows themselves."""
    column = {name: data.X[:, FEATURE_NAMES.index(name)] for name in ("item_popularity", "item_recent_popularity")}
    popular = column["item_popularity"]
    clicks = data.X[:, FEATURE_NAMES.index("item_clicks")]
    return {
        "popularity": popular,
        "recent_popularity": column["item_recent_popularity"] + _TIE * popular,
        "personal": clicks + _TIE * popular,
    }


def truth_ranks(data: Dataset, items: tuple[str, ...], truth: pd.DataFrame) -> np.ndarray | None:
    """The generator's own top 3 as ranks of the label (a miss beyond it: its HR@5 counts a top 3 only)."""
    keys = data.meta[["user_id", "timestamp"]].assign(order=np.arange(len(data)))
    joined = keys.merge(truth, on=["user_id", "timestamp"], how="left").sort_values("order")
    if len(joined) != len(data) or joined["gt_top1"].isna().any():
        return None
    label = np.array(items)[data.label]
    top = joined[["gt_top1", "gt_top2", "gt_top3"]].to_numpy()
    found = top == label[:, None]
    return np.where(found.any(axis=1), found.argmax(axis=1), _MISS)


def evaluate(
    test: Dataset,
    methods: Mapping[str, np.ndarray],
    truth_rank: np.ndarray | None = None,
    segments: pd.DataFrame | None = None,
    seed: int = 0,
) -> Evaluation:
    """Score each method's row scores on `test` (plus the truth's ranks, if known).

    `segments` (optional, indexed by user_id) adds a breakdown per column, e.g. lifecycle.
    """
    per_method = {name: hits(ranks(test, np.asarray(scores, dtype=np.float64))) for name, scores in methods.items()}
    if truth_rank is not None:
        per_method["ground_truth"] = hits(truth_rank)
    overall, intervals = _summaries(per_method, seed)
    return Evaluation(overall, intervals, _segments(test, per_method, segments), len(test))


def _summaries(
    per_method: Mapping[str, np.ndarray], seed: int
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, tuple[float, float]]]]:
    names = list(per_method)
    if not names or not len(next(iter(per_method.values()))):
        nan = dict.fromkeys(METRICS, math.nan)
        return {m: dict(nan) for m in names}, {m: dict.fromkeys(METRICS, (math.nan, math.nan)) for m in names}
    columns = np.hstack([per_method[m] for m in names] + [np.ones((len(per_method[names[0]]), 1))])
    boot = bootstrap_sums(columns, seed)
    means = boot.sums[:, :-1] / np.maximum(boot.sums[:, -1:], 1.0)
    overall: dict[str, dict[str, float]] = {}
    intervals: dict[str, dict[str, tuple[float, float]]] = {}
    for i, name in enumerate(names):
        values = per_method[name].mean(axis=0)
        overall[name] = {k: float(values[j]) for j, k in enumerate(METRICS)}
        intervals[name] = {k: percentile_interval(means[:, i * len(METRICS) + j]) for j, k in enumerate(METRICS)}
    return overall, intervals


def _segments(test: Dataset, per_method: Mapping[str, np.ndarray], extra: pd.DataFrame | None) -> pd.DataFrame:
    groups = {
        "region": test.meta["region"].replace("", "(none)"),
        "device": test.meta["device"].replace("", "(none)"),
        "user": test.meta["returning"].map({True: "returning", False: "new"}),
    }
    if extra is not None:
        for column in extra.columns:
            groups[column] = test.meta["user_id"].map(extra[column]).fillna("(none)")
    hr3 = {m: values[:, 1] for m, values in per_method.items()}
    frame = pd.DataFrame(hr3).assign(**{f"_{k}": v.to_numpy() for k, v in groups.items()})
    rows = []
    for segment in groups:
        for value, part in frame.groupby(f"_{segment}", sort=True):
            rows.append(
                {"segment": segment, "value": str(value), "rows": len(part), **{m: float(part[m].mean()) for m in hr3}}
            )
    return pd.DataFrame(rows)


def _render(head: list[str], body: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [head, *body]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(head), rule, *(line(r) for r in body)])
