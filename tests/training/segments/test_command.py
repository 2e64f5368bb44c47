"""`run_segments`: what the command prints and writes, without MLflow."""

from __future__ import annotations

from pathlib import Path

import pytest

from decision.sources.segments import SegmentModel
from training.schema import EventLogError
from training.segments.command import SegmentsConfig, run_segments


def test_run_prints_the_tables_and_writes_model_and_page(world_dir: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    cfg = SegmentsConfig(
        data_dir=world_dir,
        k_range=range(2, 5),
        min_size=10,
        bootstrap=2,
        model_out=tmp_path / "segments.json",
        report_out=tmp_path / "segments.html",
        tracking_uri=None,
        progress=False,
    )
    found = run_segments(cfg, lines.append)
    text = "\n".join(lines)
    assert text.startswith("events: ")
    assert "planted vs discovered" in text
    assert f"model: {tmp_path / 'segments.json'} (fingerprint {found.model.fingerprint()})" in text
    assert "mlflow" not in text
    assert SegmentModel.load(tmp_path / "segments.json") == found.model
    assert (tmp_path / "segments.html").read_text().startswith("<!doctype html>")


def test_a_folder_without_events_is_named(tmp_path: Path) -> None:
    with pytest.raises(EventLogError, match=r"no events.parquet\|csv here; pass --events or --data"):
        run_segments(SegmentsConfig(data_dir=tmp_path, tracking_uri=None), print)
