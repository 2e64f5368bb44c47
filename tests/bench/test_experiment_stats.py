"""The experiment-statistics bench runs end to end and writes its table, page and JSON (figures are not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import experiment_stats


def test_a_small_run_writes_the_page_and_the_targets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = experiment_stats.main(["--runs", "40", "--seed", "3", "--out", str(tmp_path)])
    document = json.loads((tmp_path / "experiment_stats.json").read_text())
    assert code == (0 if all(t["met"] for t in document["targets"]) else 1)
    assert [t["required"] for t in document["targets"]] == ["<= 0.08", "> 0.05", ">= 0.80"]
    assert [row["daily looks"] for row in document["aa"]] == [14, 21, 28]
    page = (tmp_path / "experiment_stats.html").read_text()
    assert page.count("data:image/png;base64,iVBOR") == 2
    assert "sequential (daily looks)" in capsys.readouterr().out
