"""Guardrail results as Prometheus gauges, in the text format node_exporter's textfile collector serves.

The analysis runs offline, so its alerts travel through a file: `training experiments analyze
--prom-textfile DIR/experiments.prom` (run on a schedule) rewrites it atomically, and an alert
on `decision_experiment_guardrail_degraded == 1` fires while an arm makes a guardrail metric
significantly worse (its always-valid interval lies entirely below zero).
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

from training.stats.analysis import ExperimentAnalysis


def write_textfile(analysis: ExperimentAnalysis, path: Path) -> Path:
    """One gauge per guardrail × segment × treatment arm: 1 degraded, 0 not (yet)."""
    registry = CollectorRegistry()
    degraded = Gauge(
        "decision_experiment_guardrail_degraded",
        "1 while the arm degrades the guardrail metric with confidence (always-valid interval below 0).",
        ["experiment", "metric", "segment", "arm"],
        registry=registry,
    )
    lift = Gauge(
        "decision_experiment_guardrail_lift",
        "The arm's absolute lift of the guardrail metric over control.",
        ["experiment", "metric", "segment", "arm"],
        registry=registry,
    )
    for row in analysis.guardrails.to_dict(orient="records"):
        labels = (analysis.experiment_id, str(row["metric"]), str(row["segment"]), str(row["arm"]))
        degraded.labels(*labels).set(1.0 if row["degraded"] else 0.0)
        lift.labels(*labels).set(float(row["abs_lift"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), registry)  # writes a temporary file, then renames it: never half a file
    return path
