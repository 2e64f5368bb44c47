from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from decision.domain import Cart, Context, Decision, FallbackReason, Item, Provenance, Request, Source
from decision.feedback.decision_log import DecisionLog, read_decision_log, record_for
from decision.pipeline.context import RequestContext, Sources
from decision.privacy import Pseudonymizer
from decision.sources.catalog import Catalog, CatalogItem
from decision.sources.features import Profile
from tests.conftest import TEST_USER_KEY
from tests.fakes import FixedCatalog, FixedProfiles, no_sources

REQUEST = Request(user_id="u-42", placement="home_banner", request_id="r-1", consent=True)
CONTEXT = RequestContext(REQUEST, datetime(2026, 11, 25, 9, 30, tzinfo=UTC), None, 1, no_sources())


def without_consent() -> RequestContext:
    return RequestContext(REQUEST._replace(consent=False), CONTEXT.now, None, 1, no_sources())


LONG = 60.0  # a flush interval no test waits for: only close() makes these writers write


CATALOG = Catalog(
    [
        CatalogItem(c, "x", frozenset({"home_banner"}), regions=frozenset(r))
        for c, r in (("a", ()), ("b", ("DE",)), ("c", ("US",)))
    ]
)
KEYS = Pseudonymizer(bytes.fromhex(TEST_USER_KEY))


def dropped_total(reason: str) -> float:
    labels = {"log": "decisions", "reason": reason}
    return REGISTRY.get_sample_value("decision_feedback_dropped_total", labels) or 0.0


def make_decision(decision_id: str = "d-1", items: tuple[Item, ...] | None = None) -> Decision:
    return Decision(
        decision_id=decision_id,
        request_id="r-1",
        source=Source.MODEL,
        items=(Item("shoes", 0.7, 1), Item("bags", 0.2, 2, probability=0.5)) if items is None else items,
        provenance=Provenance(
            ruleset_version="2026-11-01",
            model_name="nbc",
            model_version="3",
            fallback_reasons=(FallbackReason.NO_RULE_MATCHED,),
        ),
        decided_at=datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
    )


def logged_ids(path: Path) -> list[object]:
    return [record["decision_id"] for record in read_decision_log(path)]


def as_json(record: dict[str, object]) -> dict[str, object]:
    """The record as the standard library would have written it (the format before orjson)."""
    time = record["time"]
    assert isinstance(time, datetime)
    return {**record, "time": time.isoformat()}


def test_lines_are_the_records_as_compact_json(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "logs" / "decisions.jsonl", KEYS, flush_interval=LONG)
    log.start()
    decisions = [make_decision(f"d-{i}") for i in range(3)]
    decisions.append(decisions[0]._replace(decision_id="d-µs", decided_at=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)))
    for decision in decisions:
        log.record(decision, CONTEXT)
    assert log.close()
    records = [as_json(record_for(d, CONTEXT, KEYS)) for d in decisions]
    expected = [json.dumps(r, separators=(",", ":"), ensure_ascii=False) + "\n" for r in records]
    assert log.path.read_text(encoding="utf-8").splitlines(keepends=True) == expected
    assert list(read_decision_log(log.path)) == records
    assert records[-1]["time"] == "2026-01-02T03:04:05.000006+00:00"
    assert (log.written, log.dropped) == (4, 0)


def test_the_writer_is_not_woken_per_record(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "d.jsonl", KEYS, max_queue=2000, flush_interval=LONG, wake_at=1000)
    log.start()
    for i in range(999):
        log.record(make_decision(str(i)), CONTEXT)
    assert (log.written, log.batches) == (0, 0)
    assert not log.path.exists()  # opened on the first write
    assert log.close()
    assert logged_ids(log.path) == [str(i) for i in range(999)]
    assert (log.written, log.batches, log.dropped) == (999, 1, 0)


def test_the_writer_wakes_once_enough_records_wait(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "d.jsonl", KEYS, max_queue=2000, flush_interval=LONG, wake_at=100)
    log.start()
    for i in range(1000):
        log.record(make_decision(str(i)), CONTEXT)
    # Half the flush interval: only the wake-up can have written them by then, even on a
    # loaded machine (5 s was too short for one while other tests ran beside it).
    deadline = time.monotonic() + LONG / 2
    while log.written < 1000 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert logged_ids(log.path) == [str(i) for i in range(1000)]
    assert 1 <= log.batches <= 20  # an append racing a wake-up may add a small batch
    assert log.close()


def test_the_writer_writes_on_its_timer_without_close(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "d.jsonl", KEYS, flush_interval=0.01)
    log.start()
    for i in range(3):
        log.record(make_decision(str(i)), CONTEXT)
    deadline = time.monotonic() + 5
    while log.written < 3 and time.monotonic() < deadline:  # the condition, bounded; not a fixed sleep
        time.sleep(0.005)
    assert logged_ids(log.path) == ["0", "1", "2"]
    assert log.close()


def test_a_full_queue_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "d.jsonl", KEYS, max_queue=2)  # no writer started: nothing drains
    full, closed = dropped_total("queue_full"), dropped_total("closed")
    for i in range(5):
        log.record(make_decision(str(i)), CONTEXT)
    assert log.dropped == 3
    assert dropped_total("queue_full") == full + 3
    assert log.close()  # what never got written counts as dropped too
    assert log.dropped == 5
    assert dropped_total("closed") == closed + 2


def test_close_writes_everything_queued_and_drops_what_comes_after(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "d.jsonl", KEYS, max_queue=20000, flush_interval=LONG)
    log.start()
    for i in range(5000):
        log.record(make_decision(str(i)), CONTEXT)
    assert log.close(timeout=30)
    assert logged_ids(log.path) == [str(i) for i in range(5000)]
    log.record(make_decision("late"), CONTEXT)
    assert (log.written, log.dropped) == (5000, 1)


def test_a_non_finite_score_drops_that_record_and_counts_it(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "d.jsonl", KEYS, flush_interval=LONG)
    log.start()
    before = dropped_total("unencodable")
    log.record(make_decision("ok-1"), CONTEXT)
    log.record(make_decision("nan", items=(Item("shoes", float("nan"), 1),)), CONTEXT)
    log.record(make_decision("inf", items=(Item("shoes", 0.5, 1), Item("bags", float("-inf"), 2))), CONTEXT)
    log.record(make_decision("ok-2"), CONTEXT)
    assert log.close()
    assert logged_ids(log.path) == ["ok-1", "ok-2"]
    assert b"null" not in log.path.read_bytes()
    assert (log.written, log.dropped) == (2, 2)
    assert dropped_total("unencodable") == before + 2


def test_a_record_that_cannot_be_serialised_is_dropped_alone(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "d.jsonl", KEYS, flush_interval=LONG)
    log.start()
    log.record(make_decision("ok-1"), CONTEXT)
    log.record(make_decision("bad", items=(Item({"a set"}, 0.5, 1),)), CONTEXT)  # type: ignore[arg-type]
    log.record(make_decision("ok-2"), CONTEXT)
    assert log.close()
    assert logged_ids(log.path) == ["ok-1", "ok-2"]
    assert (log.written, log.dropped) == (2, 1)


def test_reading_skips_a_torn_last_line_and_names_a_bad_one(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"decision_id": "a"}\n{"decision_id": "b"}\n{"decision_')
    assert logged_ids(path) == ["a", "b"]
    path.write_text('{"decision_id": "a"}\nnot json\n{"decision_id": "c"}\n')
    with pytest.raises(ValueError, match=r"d\.jsonl:2: not a JSON line"):
        list(read_decision_log(path))


def test_a_log_without_consent_has_no_user(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "d.jsonl", KEYS, flush_interval=LONG)
    log.start()
    log.record(make_decision(), without_consent())
    assert log.close()
    assert b"u-42" not in log.path.read_bytes()
    assert list(read_decision_log(log.path)) == [
        {
            "decision_id": "d-1",
            "request_id": "r-1",
            "time": "2026-11-25T09:30:00+00:00",
            "placement": "home_banner",
            "context": {"region": "", "device": "", "channel": ""},
            "consent": False,
            "source": "MODEL",
            "tier": "",
            "items": [
                {"content_id": "shoes", "score": 0.7, "rank": 1, "probability": 1.0},
                {"content_id": "bags", "score": 0.2, "rank": 2, "probability": 0.5},
            ],
            "fallback_reasons": ["NO_RULE_MATCHED"],
            "ruleset_version": "2026-11-01",
            "model_name": "nbc",
            "model_version": "3",
        }
    ]


def test_with_consent_the_user_appears_only_as_a_keyed_hash() -> None:
    record = record_for(make_decision(), CONTEXT, KEYS)
    assert record["user_key"] == KEYS("u-42")
    assert len(str(record["user_key"])) == 32
    assert "u-42" not in json.dumps(as_json(record))
    assert "user_key" not in record_for(make_decision(), without_consent(), KEYS)
    other = Pseudonymizer(bytes(32))
    assert other("u-42") != KEYS("u-42")  # without the secret the key cannot be recomputed


def test_what_tiers_looked_up_is_recorded_without_looking_it_up_again() -> None:
    profile = Profile("k", CONTEXT.now, CONTEXT.now, CONTEXT.now, CONTEXT.now)
    context = RequestContext(
        REQUEST._replace(context=Context(region="DE")),
        CONTEXT.now,
        None,
        1,
        Sources(FixedCatalog(CATALOG), FixedProfiles({"u-42": profile})),
    )
    assert "eligible" not in record_for(make_decision(), context, KEYS)  # nobody asked: not computed
    assert context.profile is profile
    assert len(context.eligible) == 2
    context.features = "abc123"
    record = record_for(make_decision(), context, KEYS)
    assert (record["eligible"], record["feature_set_version"]) == (2, "abc123")
    assert record["profile_as_of"] == CONTEXT.now


def test_the_requests_other_feature_inputs_are_kept_for_offline_rescoring() -> None:
    assert not {"cart", "client_time", "excluded"} & set(record_for(make_decision(), CONTEXT, KEYS))
    client = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    request = REQUEST._replace(
        context=Context(region="DE", client_time=client),
        cart=Cart(2, 80.5, "EUR", CONTEXT.now - timedelta(minutes=45)),
        exclude_content_ids=("a", "b"),
    )
    record = record_for(make_decision(), RequestContext(request, CONTEXT.now, None, 1, no_sources()), KEYS)
    assert record["cart"] == {"items": 2, "value": 80.5, "idle_minutes": 45.0}
    assert record["client_time"] == client
    assert record["excluded"] == ["a", "b"]
    unknown_age = request._replace(cart=Cart(1, 10.0))
    record = record_for(make_decision(), RequestContext(unknown_age, CONTEXT.now, None, 1, no_sources()), KEYS)
    assert record["cart"] == {"items": 1, "value": 10.0, "idle_minutes": None}


def test_an_unwritable_path_drops_counts_and_recovers(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log's folder should be")
    log = DecisionLog(blocker / "d.jsonl", KEYS, flush_interval=0.01)
    failed = dropped_total("write_failed")
    log.start()
    log.record(make_decision("lost"), CONTEXT)
    wait_for(lambda: dropped_total("write_failed") == failed + 1)
    blocker.unlink()  # the folder can be made now
    log.record(make_decision("kept"), CONTEXT)
    wait_for(lambda: log.written == 1)
    assert log.close()
    assert logged_ids(blocker / "d.jsonl") == ["kept"]
    assert caplog.text.count("cannot open") == 1  # logged once, not once per interval


def test_a_full_disk_drops_counts_and_keeps_the_file_whole(tmp_path: Path) -> None:
    log = DecisionLog(Path("/dev/full"), KEYS, flush_interval=LONG)  # every write: ENOSPC
    failed = dropped_total("write_failed")
    log.start()
    for i in range(3):
        log.record(make_decision(str(i)), CONTEXT)
    assert log.close()
    assert (log.written, log.dropped) == (0, 3)
    assert dropped_total("write_failed") == failed + 3


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)
