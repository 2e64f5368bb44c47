from __future__ import annotations

import logging
from pathlib import Path

import pytest

from decision.reload.filewatch import WatchedFile


def _missing_warnings(caplog: pytest.LogCaptureFixture) -> int:
    return sum("is missing" in record.getMessage() for record in caplog.records)


def test_a_missing_file_is_reported_once_per_disappearance(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An optional file (the segment model) may never exist: one warning, not one per poll."""
    path = tmp_path / "segments.json"
    watched = WatchedFile(path, lambda p: p.read_text(), "segment model")
    with caplog.at_level(logging.WARNING, logger="decision.reload.filewatch"):
        for _ in range(5):
            watched.refresh()
        assert _missing_warnings(caplog) == 1
        assert watched.current is None

        path.write_text("v1")
        watched.refresh()
        assert watched.current == "v1"

        path.unlink()
        for _ in range(5):
            watched.refresh()
        assert _missing_warnings(caplog) == 2
        assert watched.current == "v1"  # the last good content keeps serving
