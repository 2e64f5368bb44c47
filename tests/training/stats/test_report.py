"""The printed analysis and its HTML page."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.training.stats.synthetic import joined_table
from training.stats.analysis import ExperimentAnalysis, analyze
from training.stats.report import render_analysis, write_report

SECRET_USER = "user-4711-raw-id"


@pytest.fixture(scope="module")
def analysis() -> ExperimentAnalysis:
    rates = {("de", "control"): 0.05, ("de", "b"): 0.07, ("fr", "control"): 0.05, ("fr", "b"): 0.05}
    table = joined_table(rates, 1_000, 7, seed=3).assign(user_key=SECRET_USER)
    return analyze(table, "exp-1", "click", "control", {"control": 0.55, "b": 0.45}, guardrails=("conversion",))


def test_text_has_the_summary_the_table_and_the_verdicts(analysis: ExperimentAnalysis) -> None:
    text = render_analysis(analysis)
    assert "experiment exp-1: metric click, control control" in text
    assert "family of 3 comparisons" in text
    assert "WARNING sample-ratio mismatch" in text  # the weights say 55/45, the data are 50/50
    assert "chance_to_beat" in text
    assert "verdict" in text
    assert SECRET_USER not in text


def test_html_page_has_tables_and_both_plots(analysis: ExperimentAnalysis, tmp_path: Path) -> None:
    path = write_report(analysis, tmp_path / "report" / "exp-1.html")
    page = path.read_text()
    assert path.name == "exp-1.html"
    assert page.count("data:image/png;base64,iVBOR") == 2
    for heading in ("Verdicts", "Arms per segment", "Sample-ratio check", "Guardrails"):
        assert f"<h2>{heading}</h2>" in page
    assert SECRET_USER not in page
