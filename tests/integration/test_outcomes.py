"""ReportOutcome against the real server: accepted once, bad input named, nothing acknowledged lost."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from prometheus_client import REGISTRY

from decision.feedback.jsonlines import read_json_lines
from decision.runtime.app import App
from decision.runtime.server import RunningServer
from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc
from tests.integration.serving import in_process as serving
from tests.integration.serving import start_server


def click(decision_id: str = "d-1", **fields: object) -> pb.ReportOutcomeRequest:
    request = pb.ReportOutcomeRequest(decision_id=decision_id, outcome_type="click", content_id="home-1")
    for name, value in fields.items():
        setattr(request, name, value)
    return request


def outcomes_in(path: Path) -> list[dict[str, object]]:
    return list(read_json_lines(path)) if path.exists() else []


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[App, RunningServer, pb_grpc.DecisionServiceStub]]:
    with serving(tmp_path, outcome_types=("signup",)) as server:
        yield server


def test_an_outcome_is_logged_once_however_often_it_is_reported(
    served: tuple[App, RunningServer, pb_grpc.DecisionServiceStub], tmp_path: Path
) -> None:
    app, _, stub = served
    decision = stub.Decide(pb.DecideRequest(user_id="u1", placement="home_banner"), timeout=5)
    first = stub.ReportOutcome(click(decision.decision_id, value=0.0), timeout=5)
    again = stub.ReportOutcome(click(decision.decision_id), timeout=5)
    assert (first.duplicate, again.duplicate) == (False, True)
    keyed = click(decision.decision_id, outcome_type="conversion", value=42.5, idempotency_key="order-77")
    assert not stub.ReportOutcome(keyed, timeout=5).duplicate
    assert stub.ReportOutcome(keyed, timeout=5).duplicate
    signup = pb.ReportOutcomeRequest(decision_id=decision.decision_id, outcome_type="signup", content_id="home-1")
    assert not stub.ReportOutcome(signup, timeout=5).duplicate  # a declared custom type
    app.stop()  # flushes the logs
    logged = outcomes_in(tmp_path / "outcomes.jsonl")
    assert [(o["type"], o["idempotency_key"]) for o in logged] == [
        ("click", f"{decision.decision_id}|click|home-1"),
        ("conversion", "order-77"),
        ("signup", f"{decision.decision_id}|signup|home-1"),
    ]
    assert logged[1]["value"] == 42.5


def test_an_outcome_for_a_decision_made_elsewhere_is_accepted(
    served: tuple[App, RunningServer, pb_grpc.DecisionServiceStub],
) -> None:
    _, _, stub = served
    assert not stub.ReportOutcome(click("decided-by-another-replica"), timeout=5).duplicate


BAD = {
    "no decision": (click(""), "decision_id"),
    "long decision id": (click("d" * 129), "decision_id"),
    "no type": (click(outcome_type=""), "outcome_type"),
    "typo in type": (click(outcome_type="clik"), "outcome_type: unknown type (did you mean 'click'?)"),
    "click without content": (click(content_id=""), "content_id"),
    "long content id": (click(content_id="c" * 129), "content_id"),
    "NaN value": (click(value=math.nan), "value"),
    "infinite value": (click(value=math.inf), "value"),
    "negative value": (click(value=-1.0), "value"),
    "huge value": (click(value=1e12), "value"),
    "long key": (click(idempotency_key="k" * 129), "idempotency_key"),
    "long user id": (click(user_id="u" * 129, personalization_consent=pb.CONSENT_GRANTED), "user_id"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_is_invalid_argument_naming_the_field(
    served: tuple[App, RunningServer, pb_grpc.DecisionServiceStub], name: str
) -> None:
    _, _, stub = served
    request, field = BAD[name]
    with pytest.raises(grpc.RpcError, match=re.escape(field)) as refused:
        stub.ReportOutcome(request, timeout=5)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details().startswith(field)


def test_a_time_outside_the_allowed_years_is_refused(
    served: tuple[App, RunningServer, pb_grpc.DecisionServiceStub],
) -> None:
    _, _, stub = served
    request = click()
    request.occurred_at.seconds = -5_000_000_000
    with pytest.raises(grpc.RpcError, match="occurred_at"):
        stub.ReportOutcome(request, timeout=5)


def test_a_batch_answers_each_entry_and_refuses_an_empty_or_huge_one(
    served: tuple[App, RunningServer, pb_grpc.DecisionServiceStub],
) -> None:
    _, _, stub = served
    batch = pb.ReportOutcomeBatchRequest(outcomes=[click("b-1"), click("b-2", value=-3.0), click("b-3"), click("b-1")])
    results = stub.ReportOutcomeBatch(batch, timeout=5).results
    assert [r.WhichOneof("result") for r in results] == ["response", "error", "response", "response"]
    assert results[1].error.field == "value"
    assert results[1].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert [results[0].response.duplicate, results[3].response.duplicate] == [False, True]
    for outcomes in ([], [click(f"x-{i}") for i in range(1001)]):
        with pytest.raises(grpc.RpcError, match="outcomes: send between 1 and 1000"):
            stub.ReportOutcomeBatch(pb.ReportOutcomeBatchRequest(outcomes=outcomes), timeout=5)


def test_a_disk_that_refuses_writes_costs_the_outcomes_not_the_decisions(tmp_path: Path) -> None:
    labels = {"log": "outcomes", "reason": "write_failed"}
    before = REGISTRY.get_sample_value("decision_feedback_dropped_total", labels) or 0.0
    with serving(tmp_path, outcome_log_path=Path("/dev/full")) as (_, running, stub):
        for i in range(20):
            assert not stub.ReportOutcome(click(f"full-{i}"), timeout=5).duplicate
        deadline = time.monotonic() + 5
        while (REGISTRY.get_sample_value("decision_feedback_dropped_total", labels) or 0.0) < before + 20:
            assert time.monotonic() < deadline, "the failed writes were not counted"
            time.sleep(0.02)
        response = stub.Decide(pb.DecideRequest(user_id="u1", placement="email"), timeout=5)
        assert response.source == pb.DECISION_SOURCE_RULE
        assert running.servicer.ready


def _report(port: int, count: int, prefix: str) -> list[tuple[str, float]]:
    """Report `count` clicks one by one; (decision id, time acknowledged) for each."""
    acknowledged = []
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = pb_grpc.DecisionServiceStub(channel)
        for i in range(count):
            stub.ReportOutcome(click(f"{prefix}-{i}"), timeout=5)
            acknowledged.append((f"{prefix}-{i}", time.monotonic()))
    return acknowledged


def test_sigterm_loses_no_acknowledged_outcome(tmp_path: Path) -> None:
    log = tmp_path / "outcomes.jsonl"
    process, port = start_server(tmp_path, env={"DECISION_OUTCOME_LOG_PATH": str(log)})
    try:
        acknowledged = _report(port, 300, "term")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        process.kill()
    assert [o["decision_id"] for o in outcomes_in(log)] == [d for d, _ in acknowledged]


def test_sigkill_loses_at_most_the_last_flush_interval(tmp_path: Path) -> None:
    """The writer flushes every 0.1 s: after SIGKILL, every outcome acknowledged more than an
    interval (plus scheduling slack on a busy machine) before the kill is on disk."""
    log = tmp_path / "outcomes.jsonl"
    process, port = start_server(tmp_path, env={"DECISION_OUTCOME_LOG_PATH": str(log)})
    try:
        acknowledged = _report(port, 400, "kill")
        killed_at = time.monotonic()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        process.kill()
    on_disk = {o["decision_id"] for o in outcomes_in(log)}
    settled = [d for d, at in acknowledged if at < killed_at - 0.5]
    assert settled, "the test reported too slowly to say anything"
    assert [d for d in settled if d not in on_disk] == []
    assert json.loads(log.read_text().splitlines()[0])["type"] == "click"
