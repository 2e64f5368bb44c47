from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from decision.decision_log import DecisionLog, read_decision_log, record_for
from decision.domain import Decision, FallbackReason, Item, Provenance, Request, Source


def dropped_total() -> float:
    return REGISTRY.get_sample_value("decision_log_dropped_total") or 0.0


def make_decision(source: Source = Source.MODEL) -> Decision:
    return Decision(
        decision_id="d-1",
        request_id="r-1",
        source=source,
        items=(Item("shoes", 0.7, 1), Item("bags", 0.2, 2)),
        provenance=Provenance(
            ruleset_version="2026-11-01",
            model_name="nbc",
            model_version="3",
            fallback_reasons=(FallbackReason.NO_RULE_MATCHED,),
        ),
        decided_at=datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
    )


def test_records_are_written_and_read_back(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "logs" / "decisions.jsonl")
    log.start()
    records = [{"decision_id": f"d-{i}", "items": [{"content_id": "x", "rank": 1}]} for i in range(3)]
    for record in records:
        log.append(record)
    assert log.close()
    assert list(read_decision_log(log.path)) == records
    assert (log.written, log.dropped) == (3, 0)


def test_a_full_queue_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "d.jsonl", max_queue=2)  # no writer started: nothing drains
    before = dropped_total()
    for i in range(5):
        log.append({"decision_id": str(i)})
    assert log.dropped == 3
    assert dropped_total() == before + 3


def test_close_drains_everything_queued(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "d.jsonl", max_queue=20000)
    log.start()
    for i in range(5000):
        log.append({"decision_id": str(i)})
    assert log.close(timeout=30)
    ids = [r["decision_id"] for r in read_decision_log(log.path)]
    assert ids == [str(i) for i in range(5000)]
    log.append({"decision_id": "late"})
    assert log.dropped == 1


def test_a_record_that_is_not_json_is_dropped_alone(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "d.jsonl")
    log.start()
    log.append({"decision_id": "ok-1"})
    log.append({"decision_id": "bad", "score": float("nan")})
    log.append({"decision_id": "bad", "tags": {"a set"}})
    log.append({"decision_id": "ok-2"})
    assert log.close()
    assert [r["decision_id"] for r in read_decision_log(log.path)] == ["ok-1", "ok-2"]
    assert log.dropped == 2


def test_reading_skips_a_torn_last_line_and_names_a_bad_one(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"decision_id": "a"}\n{"decision_id": "b"}\n{"decision_')
    assert [r["decision_id"] for r in read_decision_log(path)] == ["a", "b"]
    path.write_text('{"decision_id": "a"}\nnot json\n{"decision_id": "c"}\n')
    with pytest.raises(ValueError, match=r"d\.jsonl:2: not a JSON line"):
        list(read_decision_log(path))


def test_record_has_no_user_id_without_consent() -> None:
    request = Request(user_id="u-42", placement="home_banner", consent=False)
    record = record_for(make_decision(), request)
    assert "user_id" not in record
    assert "u-42" not in json.dumps(record)
    assert record == {
        "decision_id": "d-1",
        "request_id": "r-1",
        "time": "2026-11-25T09:30:00+00:00",
        "placement": "home_banner",
        "source": "MODEL",
        "items": [
            {"content_id": "shoes", "score": 0.7, "rank": 1},
            {"content_id": "bags", "score": 0.2, "rank": 2},
        ],
        "fallback_reasons": ["NO_RULE_MATCHED"],
        "ruleset_version": "2026-11-01",
        "model_name": "nbc",
        "model_version": "3",
    }


def test_record_keeps_the_pseudonymous_user_id_with_consent() -> None:
    request = Request(user_id="u-42", placement="home_banner", consent=True)
    assert record_for(make_decision(), request)["user_id"] == "u-42"
