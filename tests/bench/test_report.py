"""Targets and the table: ratios from the right rows, missing rows shown, not fatal."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench import report, targets
from bench.load import LoadResult
from bench.measure import Figures


def figures(name: str, max_rps: float, unloaded_ms: float = 1.0) -> Figures:
    return Figures(name, name, max_rps=max_rps, decisions_per_s=max_rps, unloaded_p50_ms=unloaded_ms)


def by_name(results: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    return {r["name"]: r for r in results}


def test_peer_ratio_uses_the_better_mlserver_protocol() -> None:
    rows = [figures("decide_model", 3000), figures("mlserver_rest", 2000), figures("mlserver_grpc", 1000)]
    result = by_name(targets.evaluate(rows))["Decide model path / MLServer best protocol (max req/s)"]
    assert result["value"] == pytest.approx(1.5)
    assert result["met"] is False


def test_throughput_ratios_are_lower_bounds_and_outcomes_have_their_own() -> None:
    rows = [figures("ceiling", 7000), figures("decide_rule", 5000), figures("report_outcome", 4000)]
    results = by_name(targets.evaluate(rows))
    assert results["Decide rule path / bare gRPC ceiling (max req/s)"]["met"] is True
    assert results["ReportOutcome / bare gRPC ceiling (max req/s)"]["value"] == pytest.approx(4000 / 7000)
    assert results["ReportOutcome / bare gRPC ceiling (max req/s)"]["met"] is False
    assert not any("unloaded" in name for name in results)  # retired: grpcio's per-call floor


def test_a_missing_or_failed_row_gives_no_verdict() -> None:
    failed = Figures("mlflow_serve", "mlflow models serve", error="ServerError: exited with 1")
    results = by_name(targets.evaluate([figures("decide_model", 3000), failed]))
    result = results["Decide model path / mlflow models serve (max req/s)"]
    assert result["value"] is None
    assert result["met"] is None


def test_table_and_json_show_unavailable_rows_with_their_reason(tmp_path: Path) -> None:
    failed = Figures("mlflow_serve", "mlflow models serve", error="ServerError: boom\n  log line\nthe cause")
    rows = [figures("ceiling", 7000), failed]
    text = report.table(rows, targets.evaluate(rows))
    assert "unavailable: ServerError: boom ... the cause" in text
    report.write_json(tmp_path / "r.json", rows, {"k": "v"}, [])
    cases = json.loads((tmp_path / "r.json").read_text())["cases"]
    assert cases[1]["max_rps"] is None  # NaN is not JSON
    assert cases[1]["error"].startswith("ServerError")


def test_percentiles_are_nearest_rank() -> None:
    result = LoadResult(100, 0, 1.0, [float(ms) for ms in range(1, 101)])
    assert result.percentile(50) == 50
    assert result.percentile(99) == 99
    assert result.percentile(100) == 100
    assert math.isnan(LoadResult(0, 3, 1.0, []).percentile(50))
