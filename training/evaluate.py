"""Offline evaluation: the model against simple baselines (and, on synthetic data, the truth).

Every method is scored the same way: its class scores are restricted to the content the
catalog allows at that decision (placement, region, time), renormalized, then
top-1 / top-3 hit rate, NDCG@3 (one relevant item) and log loss are computed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from training.features import Dataset

METRICS = ("top1", "top3", "ndcg3", "log_loss")
_EPS = 1e-15


@dataclass(frozen=True)
class Evaluation:
    """Per-method metrics overall and per segment, plus the row counts behind them."""

    overall: dict[str, dict[str, float]]  # method -> metric -> value
    segments: pd.DataFrame  # segment, value, rows, then one top1 column per method

    def metrics(self) -> dict[str, float]:
        """Flat `method_metric` names for MLflow."""
        return {f"{m}_{k}": v for m, row in self.overall.items() for k, v in row.items()}

    def table(self) -> str:
        """Plain-text tables: overall, then top-1 hit rate by segment."""
        head = ["method", *METRICS]
        body = [[m, *(f"{row[k]:.4f}" for k in METRICS)] for m, row in self.overall.items()]
        seg = self.segments
        seg_head = ["segment", "value", "rows", *(f"{m} top1" for m in self.overall)]
        seg_body = [
            [str(r.segment), str(r.value), str(r.rows)] + [f"{getattr(r, m):.4f}" for m in self.overall]
            for r in seg.itertuples()
        ]
        return f"{_render(head, body)}\n\n{_render(seg_head, seg_body)}"


def ranked(scores: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Scores restricted to eligible content and renormalized to sum to 1 per row."""
    masked = np.where(eligible, scores, 0.0)
    total = masked.sum(axis=1, keepdims=True)
    uniform = eligible / np.maximum(eligible.sum(axis=1, keepdims=True), 1)
    return np.where(total > 0, masked / np.where(total > 0, total, 1.0), uniform)


def score(probs: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Hit rates, NDCG@3 and log loss of renormalized probabilities against labels."""
    if len(y) == 0:
        return dict.fromkeys(METRICS, math.nan)
    rank = _rank(probs, y)
    p_label = probs[np.arange(len(y)), y]
    return {
        "top1": float(np.mean(rank == 0)),
        "top3": float(np.mean(rank < 3)),
        "ndcg3": float(np.mean(np.where(rank < 3, 1.0 / np.log2(rank + 2.0), 0.0))),
        "log_loss": float(np.mean(-np.log(np.clip(p_label, _EPS, 1.0)))),
    }


def _rank(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """0-based rank of the label; a tie goes to the class listed first, never to the label."""
    p_label = probs[np.arange(len(y)), y][:, None]
    before = np.arange(probs.shape[1])[None, :] < y[:, None]
    rank: np.ndarray = ((probs > p_label) | ((probs == p_label) & before)).sum(axis=1)
    return rank


def popularity(train: Dataset) -> np.ndarray:
    """Baseline: how often each content was clicked in the training split (add-one)."""
    counts = np.bincount(train.y, minlength=len(train.classes)).astype(np.float64) + 1.0
    shares: np.ndarray = counts / counts.sum()
    return shares


def personal(data: Dataset, popular: np.ndarray) -> np.ndarray:
    """Baseline: the user's own most clicked content; popularity breaks ties and fills gaps."""
    return data.past_clicks.astype(np.float64) + 0.5 * popular[None, :]


def truth_scores(data: Dataset, truth: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """The generator's true ranking as (rank of the label or 3, p(label)); None if unmatched."""
    keys = data.meta[["user_id", "timestamp"]].assign(order=np.arange(len(data)))
    joined = keys.merge(truth, on=["user_id", "timestamp"], how="left").sort_values("order")
    if joined["gt_p"].isna().any():
        return None
    label = np.array(data.classes)[data.y]
    top = joined[["gt_top1", "gt_top2", "gt_top3"]].to_numpy()
    hits = top == label[:, None]
    rank = np.where(hits.any(axis=1), hits.argmax(axis=1), 3)
    return rank, joined["gt_p"].to_numpy(dtype=np.float64)


def evaluate(
    test: Dataset,
    methods: Mapping[str, np.ndarray],
    truth: pd.DataFrame | None = None,
    segments: pd.DataFrame | None = None,
) -> Evaluation:
    """Score each method's (n, K) scores on `test`; add the truth if the data has it.

    `segments` (optional, indexed by user_id) adds a breakdown per column, e.g. lifecycle.
    """
    hits: dict[str, np.ndarray] = {}
    overall: dict[str, dict[str, float]] = {}
    for name, scores in methods.items():
        probs = ranked(np.broadcast_to(scores, test.eligible.shape), test.eligible)
        overall[name] = score(probs, test.y)
        hits[name] = _rank(probs, test.y) == 0
    known = truth_scores(test, truth) if truth is not None else None
    if known is not None:
        rank, p_label = known
        overall["ground_truth"] = {
            "top1": float(np.mean(rank == 0)),
            "top3": float(np.mean(rank < 3)),
            "ndcg3": float(np.mean(np.where(rank < 3, 1.0 / np.log2(rank + 2.0), 0.0))),
            "log_loss": float(np.mean(-np.log(np.clip(p_label, _EPS, 1.0)))),
        }
        hits["ground_truth"] = rank == 0
    return Evaluation(overall, _segments(test, hits, segments))


def _segments(test: Dataset, hits: dict[str, np.ndarray], extra: pd.DataFrame | None) -> pd.DataFrame:
    groups = {
        "region": test.meta["region"].replace("", "(none)"),
        "device": test.meta["device"].replace("", "(none)"),
        "user": test.meta["returning"].map({True: "returning", False: "new"}),
    }
    if extra is not None:
        for column in extra.columns:
            groups[column] = test.meta["user_id"].map(extra[column]).fillna("(none)")
    frame = pd.DataFrame(hits).assign(**{f"_{k}": v.to_numpy() for k, v in groups.items()})
    rows = []
    for segment in groups:
        for value, part in frame.groupby(f"_{segment}", sort=True):
            rows.append(
                {
                    "segment": segment,
                    "value": str(value),
                    "rows": len(part),
                    **{m: float(part[m].mean()) for m in hits},
                }
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
