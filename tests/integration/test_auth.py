"""Bearer tokens on a real server: none, wrong, right, right without the scope, oversized; health and
reflection open; the token in no log line and no error detail; the tokens file reloaded."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from prometheus_client import REGISTRY

from decision.api.auth import METHOD_SCOPES
from decision.runtime.server import SERVICE_NAME, RunningServer, ServeError
from decision.security.tokens import MAX_TOKEN_CHARS, add_token
from decision.settings import Settings
from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc
from tests.fakes import decider, serve

DECIDE = pb.DecideRequest(user_id="u1", placement="home_banner")
OUTCOME = pb.ReportOutcomeRequest(decision_id="d1", content_id="home_welcome", outcome_type="click")


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    return tmp_path / "tokens.yaml"


@pytest.fixture
def tokens(tokens_file: Path) -> dict[str, str]:
    """One token per kind of client, by name."""
    return {
        name: add_token(tokens_file, name, scopes)
        for name, scopes in (("web", ["decide"]), ("tracker", ["report"]), ("ops", ["admin"]))
    }


@pytest.fixture
def running(tokens: dict[str, str], tokens_file: Path) -> Iterator[RunningServer]:
    settings = Settings(
        listen="127.0.0.1:0", metrics_port=0, decision_log_path=None, workers=4, tokens_path=tokens_file
    )
    server = serve(settings, decider(placements=settings.placements))
    server.mark_serving()
    yield server
    server.server.stop(0).wait()


@pytest.fixture
def channel(running: RunningServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{running.port}") as chan:
        yield chan


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


Metadata = tuple[tuple[str, str], ...] | None


def status(
    call: grpc.UnaryUnaryMultiCallable[Any, Any], request: object, metadata: Metadata = None
) -> tuple[grpc.StatusCode, str]:
    try:
        call(request, timeout=5, metadata=metadata)
    except grpc.RpcError as exc:
        return exc.code(), exc.details() or ""
    return grpc.StatusCode.OK, ""


def refusals(reason: str) -> float:
    return REGISTRY.get_sample_value("decision_auth_refusals_total", {"reason": reason}) or 0.0


def test_decide_needs_a_token_with_the_decide_scope(channel: grpc.Channel, tokens: dict[str, str]) -> None:
    stub = pb_grpc.DecisionServiceStub(channel)
    missing, invalid, scope = refusals("missing"), refusals("invalid"), refusals("scope")
    assert status(stub.Decide, DECIDE)[0] == grpc.StatusCode.UNAUTHENTICATED
    assert status(stub.Decide, DECIDE, bearer("decision_wrong"))[0] == grpc.StatusCode.UNAUTHENTICATED
    assert status(stub.Decide, DECIDE, (("authorization", f"Basic {tokens['web']}"),))[0] == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    assert status(stub.Decide, DECIDE, bearer(tokens["web"])) == (grpc.StatusCode.OK, "")
    assert status(stub.Decide, DECIDE, (("authorization", f"bearer  {tokens['web']} "),))[0] == grpc.StatusCode.OK
    code, details = status(stub.Decide, DECIDE, bearer(tokens["tracker"]))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert details == "client tracker may not call Decide: it needs scope 'decide'"
    assert status(stub.Decide, DECIDE, bearer(tokens["ops"]))[0] == grpc.StatusCode.PERMISSION_DENIED
    batch = pb.DecideBatchRequest(requests=[DECIDE])
    assert status(stub.DecideBatch, batch, bearer(tokens["tracker"]))[0] == grpc.StatusCode.PERMISSION_DENIED
    assert status(stub.DecideBatch, batch, bearer(tokens["web"]))[0] == grpc.StatusCode.OK
    assert (refusals("missing"), refusals("invalid"), refusals("scope")) == (missing + 2, invalid + 1, scope + 3)


def test_outcomes_need_the_report_scope(channel: grpc.Channel, tokens: dict[str, str]) -> None:
    stub = pb_grpc.DecisionServiceStub(channel)
    assert status(stub.ReportOutcome, OUTCOME)[0] == grpc.StatusCode.UNAUTHENTICATED
    assert status(stub.ReportOutcome, OUTCOME, bearer(tokens["web"]))[0] == grpc.StatusCode.PERMISSION_DENIED
    assert status(stub.ReportOutcome, OUTCOME, bearer(tokens["tracker"]))[0] == grpc.StatusCode.OK
    batch = pb.ReportOutcomeBatchRequest(outcomes=[OUTCOME])
    assert status(stub.ReportOutcomeBatch, batch, bearer(tokens["tracker"]))[0] == grpc.StatusCode.OK


def test_events_need_the_report_scope_and_forget_needs_admin(channel: grpc.Channel, tokens: dict[str, str]) -> None:
    stub = pb_grpc.DecisionServiceStub(channel)
    events = pb.RecordEventsRequest(events=[pb.Event(user_id="u1", event_type="click", content_id="home-1")])
    assert status(stub.RecordEvents, events, bearer(tokens["web"]))[0] == grpc.StatusCode.PERMISSION_DENIED
    assert status(stub.RecordEvents, events, bearer(tokens["tracker"]))[0] == grpc.StatusCode.OK
    forget = pb.ForgetRequest(user_id="u1")
    assert status(stub.Forget, forget)[0] == grpc.StatusCode.UNAUTHENTICATED
    code, details = status(stub.Forget, forget, bearer(tokens["tracker"]))
    assert (code, details) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "client tracker may not call Forget: it needs scope 'admin'",
    )
    assert status(stub.Forget, forget, bearer(tokens["ops"]))[0] == grpc.StatusCode.OK


def test_oversized_tokens_are_refused_without_being_looked_at(channel: grpc.Channel) -> None:
    stub = pb_grpc.DecisionServiceStub(channel)
    too_long = refusals("too_long")
    code, details = status(stub.Decide, DECIDE, bearer("x" * (MAX_TOKEN_CHARS + 1)))
    assert (code, details) == (grpc.StatusCode.UNAUTHENTICATED, f"token longer than {MAX_TOKEN_CHARS} chars")
    assert refusals("too_long") == too_long + 1
    code, details = status(stub.Decide, DECIDE, bearer("x" * 64 * 1024))  # over grpc's metadata limit
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "metadata size exceeds hard limit" in details
    assert status(stub.Decide, DECIDE)[0] == grpc.StatusCode.UNAUTHENTICATED  # the server is fine


def test_health_and_reflection_are_open_without_a_token(channel: grpc.Channel) -> None:
    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    assert SERVICE_NAME in set(ProtoReflectionDescriptorDatabase(channel).get_services())


def test_every_rpc_of_the_service_has_a_scope() -> None:
    methods = {f"/{SERVICE_NAME}/{m.name}" for m in pb.DESCRIPTOR.services_by_name["DecisionService"].methods}
    assert methods - set(METHOD_SCOPES) == set()


def test_the_token_appears_in_no_log_line_and_no_detail(
    channel: grpc.Channel, tokens: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    stub = pb_grpc.DecisionServiceStub(channel)
    wrong = "decision_" + "s3cr3t" * 7
    details = []
    with caplog.at_level(logging.DEBUG):
        for token in (wrong, tokens["web"], tokens["tracker"]):
            details.append(status(stub.Decide, DECIDE, bearer(token))[1])
            details.append(status(stub.ReportOutcome, OUTCOME, bearer(token))[1])
    assert any("call refused" in record.getMessage() for record in caplog.records)  # the log was captured
    for token in (wrong, *tokens.values()):
        assert token not in caplog.text
        assert all(token not in detail for detail in details)


def test_the_tokens_file_is_reloaded_and_a_bad_one_keeps_the_last_good(
    running: RunningServer, channel: grpc.Channel, tokens_file: Path, tokens: dict[str, str]
) -> None:
    assert running.security.tokens is not None
    stub = pb_grpc.DecisionServiceStub(channel)
    newcomer = add_token(tokens_file, "newcomer", ["decide"])
    running.security.tokens.refresh()
    assert status(stub.Decide, DECIDE, bearer(newcomer))[0] == grpc.StatusCode.OK
    tokens_file.write_text(tokens_file.read_text() + "- {name: broken}\n")
    running.security.tokens.refresh()
    assert status(stub.Decide, DECIDE, bearer(newcomer))[0] == grpc.StatusCode.OK
    kept = [
        line for line in tokens_file.read_text().splitlines() if "name: newcomer" not in line and "broken" not in line
    ]
    tokens_file.write_text("\n".join(kept) + "\n")  # revoked
    running.security.tokens.refresh()
    assert status(stub.Decide, DECIDE, bearer(newcomer))[0] == grpc.StatusCode.UNAUTHENTICATED
    assert status(stub.Decide, DECIDE, bearer(tokens["web"]))[0] == grpc.StatusCode.OK


def test_a_bad_tokens_file_stops_the_start(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    path.write_text("- {name: a, sha256: nothex, scopes: [decide]}\n")
    settings = Settings(listen="127.0.0.1:0", metrics_port=0, decision_log_path=None, tokens_path=path)
    with pytest.raises(ServeError, match=rf"tokens file \(tokens_path\):\n{path}:1: client a: 'sha256'"):
        serve(settings, decider())
