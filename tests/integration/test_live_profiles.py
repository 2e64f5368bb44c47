"""RecordEvents and Forget through the real server: the next decision sees the event; forgotten is forgotten."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from decision.feedback.jsonlines import read_json_lines
from decision.runtime.app import App
from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc
from tests.decision.sources.test_segments import model
from tests.integration.serving import in_process


def event(user: str, kind: str = "click", **fields: object) -> pb.Event:
    message = pb.Event(user_id=user, event_type=kind, personalization_consent=pb.CONSENT_GRANTED, **fields)  # type: ignore[arg-type]
    message.occurred_at.FromDatetime(datetime(2026, 12, 1, 12, tzinfo=UTC))
    return message


def test_a_recorded_event_is_in_the_next_decisions_profile(tmp_path: Path) -> None:
    with serving(tmp_path) as (app, stub, _):
        reply = stub.RecordEvents(
            pb.RecordEventsRequest(
                events=[
                    event("u1", content_id="home-1"),
                    pb.Event(user_id="u2", event_type="click", content_id="x"),  # no consent: nothing
                    event("u3", "click"),  # no content: refused
                    event("u4", "buy"),
                ]
            ),
            timeout=5,
        )
        assert (reply.accepted, reply.without_consent) == (1, 1)
        assert [(e.index, e.field) for e in reply.errors] == [(2, "content_id"), (3, "event_type")]
        assert "did you mean 'purchase'" not in reply.errors[1].message  # 'buy' is not close enough
        decided = stub.Decide(
            pb.DecideRequest(user_id="u1", placement="home_banner", personalization_consent=pb.CONSENT_GRANTED),
            timeout=5,
        )
        profile = app.live.get("u1")
        assert profile is not None
        assert dict(profile.content_clicks) == {"home-1": 1}
    logged = {r["decision_id"]: r for r in read_json_lines(tmp_path / "decisions.jsonl")}
    assert logged[decided.decision_id].get("profile_as_of") is None  # no model tier here asked for it
    assert app.live.get("u2") is None


def test_an_outcome_naming_its_user_updates_the_profile(tmp_path: Path) -> None:
    with serving(tmp_path) as (app, stub, _):
        outcome = pb.ReportOutcomeRequest(
            decision_id="d-1",
            outcome_type="conversion",
            content_id="home-1",
            value=42.0,
            user_id="u7",
            personalization_consent=pb.CONSENT_GRANTED,
        )
        stub.ReportOutcome(outcome, timeout=5)
        profile = app.live.get("u7")
        assert profile is not None
        assert (profile.purchases, profile.monetary) == (1, 42.0)


def test_forget_removes_the_user_and_the_cli_says_so(tmp_path: Path) -> None:
    with serving(tmp_path) as (app, stub, port):
        stub.RecordEvents(pb.RecordEventsRequest(events=[event("u9", content_id="a")]), timeout=5)
        done = subprocess.run(
            [sys.executable, "-m", "decision", "forget", "--target", f"127.0.0.1:{port}", "--user", "u9"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert (done.returncode, done.stdout.strip()) == (0, "forgotten")
        assert app.live.get("u9") is None
        stub.RecordEvents(pb.RecordEventsRequest(events=[event("u9", content_id="a")]), timeout=5)
        assert app.live.get("u9") is None
    keys = (tmp_path / "forgotten.keys").read_text()
    assert "u9" not in keys
    assert len(keys.strip()) == 32  # the user key, never the id


def test_two_processes_share_profiles_and_forgotten_users_through_redis(tmp_path: Path, redis_url: str) -> None:
    shared = {"shared_state_url": redis_url, "profile_cache_seconds": 0.0, "user_key_path": tmp_path / "user.key"}
    with (
        serving(tmp_path / "a", **shared) as (first, stub_a, _),
        serving(tmp_path / "b", **shared) as (second, stub_b, _),
    ):
        stub_a.RecordEvents(
            pb.RecordEventsRequest(
                events=[event("u5", content_id="a", category="k"), event("u5", "view", category="k")]
            ),
            timeout=5,
        )
        found = second.live.get("u5")
        assert found is not None
        assert found.clicks == 1
        # what the ranker's rows and the consumed-content exclusion read came through Redis too
        assert (found.engaged, dict(found.category_events)) == (("a",), {"k": 2})
        assert dict(found.category_last) == {"k": datetime(2026, 12, 1, 12, tzinfo=UTC).timestamp()}
        assert found == first.live.get("u5")
        assert stub_b.Forget(pb.ForgetRequest(user_id="u5"), timeout=5).had_profile
        deadline = time.monotonic() + 5
        while first.live.get("u5") is not None:  # the other replica learns of it within its refresh
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_a_redis_outage_degrades_to_no_profile_and_forget_says_retry(tmp_path: Path) -> None:
    with serving(tmp_path, shared_state_url="redis://127.0.0.1:1/0") as (app, stub, _):
        reply = stub.RecordEvents(pb.RecordEventsRequest(events=[event("u1", content_id="a")]), timeout=5)
        assert reply.accepted == 0  # not stored, counted, the call still answered
        decided = stub.Decide(
            pb.DecideRequest(user_id="u1", placement="email", personalization_consent=pb.CONSENT_GRANTED), timeout=5
        )
        assert decided.items
        with pytest.raises(grpc.RpcError, match="nothing was forgotten, retry") as refused:
            stub.Forget(pb.ForgetRequest(user_id="u1"), timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert app.live.get("u1") is None


def test_the_decision_log_carries_the_segment_the_model_assigns_to_the_live_profile(tmp_path: Path) -> None:
    segments_file = model().save(tmp_path / "segments.json")
    with serving(tmp_path, segments_path=segments_file) as (app, stub, _):
        deadline = time.monotonic() + 10
        while app.segment_model.current is None:  # loaded by its watcher
            assert time.monotonic() < deadline
            time.sleep(0.05)
        stub.RecordEvents(pb.RecordEventsRequest(events=[event("u1", content_id="a")]), timeout=5)
        consented = stub.Decide(
            pb.DecideRequest(user_id="u1", placement="email", personalization_consent=pb.CONSENT_GRANTED), timeout=5
        )
        anonymous = stub.Decide(pb.DecideRequest(user_id="u1", placement="email"), timeout=5)
    logged = {r["decision_id"]: r for r in read_json_lines(tmp_path / "decisions.jsonl")}
    assert logged[consented.decision_id]["segment"] in {s.name for s in model().segments}
    assert "segment" not in logged[anonymous.decision_id]


@contextlib.contextmanager
def serving(tmp_path: Path, **overrides: object) -> Iterator[tuple[App, pb_grpc.DecisionServiceStub, int]]:
    with in_process(tmp_path, **overrides) as (app, running, stub):
        yield app, stub, running.port
