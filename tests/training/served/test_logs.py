"""Reading the logs: globs, chunks across files, torn and bad lines named by file and line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.training.served.logs import T0, at, decision, outcome, write_lines
from training.served import logs
from training.served.logs import ServedLogError, expand, read_decisions, read_outcomes


def test_expand_takes_paths_and_globs_once_each_and_refuses_what_matches_nothing(tmp_path: Path) -> None:
    a = write_lines(tmp_path / "decisions-0.jsonl", [])
    b = write_lines(tmp_path / "decisions-1.jsonl", [])
    assert expand([str(tmp_path / "decisions-*.jsonl"), a]) == [a, b]
    with pytest.raises(ServedLogError, match=r"nope-\*\.jsonl: no such file; pass log files or a glob"):
        expand([str(tmp_path / "nope-*.jsonl")])
    with pytest.raises(ServedLogError, match=r"missing\.jsonl: no such file"):
        expand([tmp_path / "missing.jsonl"])


def test_items_point_at_their_decision_across_chunks_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "CHUNK", 2)
    first = write_lines(tmp_path / "a.jsonl", [decision(f"a{i}", items=(f"c{i}", "x")) for i in range(3)])
    second = write_lines(tmp_path / "b.jsonl", [decision("b0", items=("c9",)), decision("b1", items=())])
    seen: list[int] = []
    frames = read_decisions([first, second], seen.append)
    assert seen == [2, 1, 2]
    assert frames.decisions["decision_id"].tolist() == ["a0", "a1", "a2", "b0", "b1"]
    by_item = frames.decisions["decision_id"].to_numpy()[frames.items["row"].to_numpy()]
    assert list(zip(by_item, frames.items["content_id"], strict=True)) == [
        ("a0", "c0"),
        ("a0", "x"),
        ("a1", "c1"),
        ("a1", "x"),
        ("a2", "c2"),
        ("a2", "x"),
        ("b0", "c9"),
    ]
    assert frames.decisions["items_shown"].tolist() == [2, 2, 2, 1, 0]


def test_decision_columns_and_their_defaults(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "d.jsonl", [decision("d0"), {"decision_id": "bare", "time": T0.isoformat()}])
    frame = read_decisions([path]).decisions
    assert frame["time"].tolist() == [T0, T0]
    assert str(frame["time"].dtype) == "datetime64[ns, UTC]"
    bare = frame.iloc[1]
    assert (bare["placement"], bare["region"], bare["user_key"], bare["source"]) == ("", "", "", "")
    assert (bool(bare["consent"]), bare["arm_probability"], bare["eligible"], bare["items_shown"]) == (
        False,
        1.0,
        -1,
        0,
    )
    assert frame.iloc[0]["eligible"] == 12


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "d.jsonl", [decision("d0"), decision("d1")])
    with path.open("a", encoding="utf-8") as out:
        out.write('{"decision_id": "d2", "ti')  # the server died mid-write
    assert read_decisions([path]).decisions["decision_id"].tolist() == ["d0", "d1"]


def test_bad_lines_are_named_by_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "CHUNK", 2)
    garbled = tmp_path / "garbled.jsonl"
    garbled.write_text('{"decision_id": "d0", "time": "2026-12-01T12:00:00+00:00"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"garbled.jsonl:2: not a JSON line"):
        read_decisions([garbled])
    no_id = write_lines(tmp_path / "no_id.jsonl", [decision("d0"), {"time": T0.isoformat()}])
    with pytest.raises(ServedLogError, match=r"no_id.jsonl:2: no decision_id; is this a decision log\?"):
        read_decisions([no_id])
    bad_time = write_lines(
        tmp_path / "bad_time.jsonl", [decision(f"d{i}") for i in range(4)] + [decision("x", time=T0)]
    )
    lines = bad_time.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(T0.isoformat(), "yesterday")
    bad_time.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ServedLogError, match=r"bad_time.jsonl:4: time 'yesterday' is not an ISO-8601 timestamp"):
        read_decisions([bad_time])
    bad_item = write_lines(tmp_path / "bad_item.jsonl", [{**decision("d0"), "items": [{"content_id": "c1"}]}])
    with pytest.raises(ServedLogError, match=r"bad_item.jsonl:1: an item lacks content_id, rank, probability"):
        read_decisions([bad_item])


def test_outcomes_keep_a_missing_client_time_and_derive_a_missing_key(tmp_path: Path) -> None:
    old_line = outcome("d0", "conversion", "c1", 9.5, received_at=at(minutes=1))
    del old_line["idempotency_key"]
    path = write_lines(tmp_path / "o.jsonl", [outcome("d0", occurred_at=at(seconds=3), key="k1"), old_line])
    frame = read_outcomes([path])
    assert frame["idempotency_key"].tolist() == ["k1", "d0|conversion|c1"]
    assert frame["occurred_at"].iloc[0] == at(seconds=3)
    assert pd.isna(frame["occurred_at"].iloc[1])
    assert frame["received_at"].iloc[1] == at(minutes=1)
    assert frame["value"].tolist() == [0.0, 9.5]


def test_bad_outcome_lines_are_named(tmp_path: Path) -> None:
    no_type = write_lines(tmp_path / "no_type.jsonl", [{"decision_id": "d0"}])
    with pytest.raises(ServedLogError, match=r"no_type.jsonl:1: no decision_id or type; is this an outcome log\?"):
        read_outcomes([no_type])
    no_time = write_lines(tmp_path / "no_time.jsonl", [{**outcome("d0"), "received_at": None}])
    with pytest.raises(ServedLogError, match=r"no_time.jsonl:1: received_at None is not an ISO-8601 timestamp"):
        read_outcomes([no_time])


def test_no_files_give_empty_typed_frames() -> None:
    frames = read_decisions([])
    assert frames.decisions.empty
    assert frames.items.empty
    assert str(frames.decisions["time"].dtype) == "datetime64[ns, UTC]"
    assert read_outcomes([]).empty
