"""Guardrails flag an arm that makes another metric worse, and only then."""

from __future__ import annotations

from tests.training.stats.synthetic import joined_table
from training.stats.arm_comparison import SequentialSettings
from training.stats.experiment_table import experiment_rows
from training.stats.guardrail import guardrail_checks


def test_a_clear_drop_in_clicks_is_flagged_and_a_null_segment_is_not() -> None:
    rates = {("de", "control"): 0.10, ("de", "b"): 0.07, ("fr", "control"): 0.10, ("fr", "b"): 0.10}
    rows = experiment_rows(joined_table(rates, 800, 7, seed=5), "exp-1", ["click"])
    groups = {str(segment): part for segment, part in rows.groupby("segment")}
    checks = guardrail_checks(groups, ["click"], "control", 0.05, SequentialSettings(0.025, 11_200))
    flagged = checks.set_index("segment")["degraded"]
    assert bool(flagged["de"])
    assert not bool(flagged["fr"])
    assert list(checks.columns[:3]) == ["metric", "segment", "arm"]


def test_no_guardrails_give_an_empty_frame_with_columns() -> None:
    checks = guardrail_checks({}, [], "control", 0.05, SequentialSettings(0.05, 5_000))
    assert checks.empty
    assert "degraded" in checks.columns
