"""The command-level functions: files written, lines printed, no user key in the KPI output."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.training.served.logs import at, decision, outcome, write_lines
from training.served.command import run_join, run_kpi
from training.served.logs import ServedLogError


def logs(folder: Path) -> None:
    for replica in range(2):
        write_lines(
            folder / f"decisions-{replica}.jsonl",
            [decision(f"d{replica}{i}", user_key=f"secret-key-{i}", segment="loyal") for i in range(5)],
        )
        write_lines(
            folder / f"outcomes-{replica}.jsonl",
            [outcome(f"d{replica}{i}", occurred_at=at(seconds=i)) for i in range(replica + 1)] + [outcome("ghost")],
        )


def test_join_then_kpi(tmp_path: Path) -> None:
    logs(tmp_path / "var")
    printed: list[str] = []
    out = tmp_path / "out" / "joined.parquet"
    summary = run_join(
        [str(tmp_path / "var" / "decisions-*.jsonl")],
        [str(tmp_path / "var" / "outcomes-*.jsonl")],
        out,
        reward="conversion",
        echo=printed.append,
        progress=False,
    )
    assert (summary.decisions_read, summary.joined, summary.unknown_decision, summary.duplicate_outcomes) == (
        10,
        3,
        1,
        1,
    )
    assert printed[0] == "decisions: 10 read from 2 file(s), 0 duplicate(s) dropped"
    assert printed[-3:] == [
        f"wrote {out}",
        f"wrote {out.parent / 'joined.items.parquet'}",
        f"wrote {out.parent / 'joined.summary.json'}",
    ]
    assert len(pd.read_parquet(out)) == 10
    assert json.loads((out.parent / "joined.summary.json").read_text())["unknown_decision_ids"] == ["ghost"]
    printed.clear()
    kpis = run_kpi(out, tmp_path / "kpi.html", echo=printed.append)
    overall = kpis.iloc[0]
    assert (overall["decisions"], overall["clicks"]) == (10, 3)
    assert printed[-1] == f"report: {tmp_path / 'kpi.html'}"
    everything = "\n".join(printed) + (tmp_path / "kpi.html").read_text(encoding="utf-8")
    assert "secret-key" not in everything


def test_a_missing_log_is_named(tmp_path: Path) -> None:
    with pytest.raises(ServedLogError, match=r"decisions\*\.jsonl: no such file"):
        run_join([str(tmp_path / "decisions*.jsonl")], [str(tmp_path / "outcomes*.jsonl")], tmp_path / "j.parquet")
