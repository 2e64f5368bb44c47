"""The issue's targets, as ratios between figures of the same run."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bench.measure import Figures

# (name, numerator case, denominator case(s) - the best of them, figure, op, bound)
TARGETS: tuple[tuple[str, str, tuple[str, ...], str, str, float], ...] = (
    (
        "Decide model path / mlflow models serve (max req/s)",
        "decide_model",
        ("mlflow_serve",),
        "max_rps",
        ">=",
        30.0,
    ),
    (
        "Decide model path / MLServer best protocol (max req/s)",
        "decide_model",
        ("mlserver_rest", "mlserver_grpc"),
        "max_rps",
        ">=",
        2.0,
    ),
    (
        "Decide rule path / bare gRPC ceiling (max req/s)",
        "decide_rule",
        ("ceiling",),
        "max_rps",
        ">=",
        0.55,
    ),
    (
        "Decide model path / bare gRPC ceiling (max req/s)",
        "decide_model",
        ("ceiling",),
        "max_rps",
        ">=",
        0.50,
    ),
    (
        "--processes 2 / one process, model path (max req/s)",
        "decide_model_2proc",
        ("decide_model",),
        "max_rps",
        ">=",
        1.7,
    ),
    (
        "RecordEvents / bare gRPC ceiling (max req/s)",
        "record_events",
        ("ceiling",),
        "max_rps",
        ">=",
        0.60,
    ),
    (
        "Decide model path, state in Redis / bare gRPC ceiling (max req/s)",
        "decide_model_redis",
        ("ceiling",),
        "max_rps",
        ">=",
        0.45,
    ),
    (
        "ReportOutcome / bare gRPC ceiling (max req/s)",
        "report_outcome",
        ("ceiling",),
        "max_rps",
        ">=",
        0.70,
    ),
)
# The unloaded-p50 targets were retired: one request at a time, grpcio's per-call floor
# dominates (bench/README.md, "Where the unloaded latency goes"); the figure is still measured.


def evaluate(figures: Sequence[Figures]) -> list[dict[str, object]]:
    """Each target with its measured ratio and verdict (None where a side is missing)."""
    by_name = {f.name: f for f in figures if not f.error}
    results: list[dict[str, object]] = []
    for name, top, bottoms, key, op, bound in TARGETS:
        value: float | None = None
        present = [by_name[b] for b in bottoms if b in by_name]
        if top in by_name and present:
            pick = max if op == ">=" else min
            denominator = pick(getattr(b, key) for b in present)
            numerator = getattr(by_name[top], key)
            if denominator and not math.isnan(denominator) and not math.isnan(numerator):
                value = numerator / denominator
        met = None if value is None else (value >= bound if op == ">=" else value <= bound)
        results.append(
            {
                "name": name,
                "value": value,
                "op": op,
                "bound": bound,
                "met": met,
                "figure": key,
                "numerator": top,
                "denominator": list(bottoms),
            }
        )
    return results
