"""The gRPC client: requests as a shop would send them, and a whole simulation against a real `decision serve`."""

from __future__ import annotations

import re
import signal
import socket
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from decision.feedback.decision_log import read_decision_log
from decision.feedback.jsonlines import read_json_lines
from decision.settings import DEFAULT_PLACEMENTS
from decision.v1 import decision_service_pb2 as pb
from tests.integration.serving import start_server
from training.traffic.client import GrpcDecisionApi, ServerError, answer_from, decide_request, outcome_request
from training.traffic.driver import simulate
from training.traffic.exchange import Answer, Ask, OutcomeReport, Refusal, ShownItem
from training.traffic.ground_truth import OTHER_CONTENT_RATE
from training.traffic.moment import Moment
from training.traffic.population import draw_population
from training.traffic.target import TargetError

REPO_RULES = Path(__file__).resolve().parents[3] / "rules"
AT = datetime(2026, 4, 2, 18, 30, tzinfo=UTC)


def test_a_request_carries_the_users_context_consent_and_cart() -> None:
    user = draw_population(1, 1, consent_share=1.0)[0]
    moment = Moment("home_banner", AT, "app", cart_items=2, cart_value=88.5, cart_idle_minutes=45.0)
    before = datetime.now(UTC)
    request = decide_request(Ask("sim-1-0", user, moment, 3))
    after = datetime.now(UTC)
    assert (request.request_id, request.user_id, request.placement, request.max_results) == (
        "sim-1-0",
        user.user_id,
        "home_banner",
        3,
    )
    context = request.context
    assert (context.region, context.device, context.channel) == (user.region, user.device, "app")
    assert request.context.client_time.ToDatetime(UTC) == AT
    assert request.personalization_consent == pb.CONSENT_GRANTED
    assert (request.cart.item_count, request.cart.value, request.cart.currency) == (2, 88.5, "EUR")
    # idle for 45 minutes on the server's clock, which is what the cart rules measure against
    updated = request.cart.updated_at.ToDatetime(UTC)
    assert before - timedelta(minutes=45) <= updated <= after - timedelta(minutes=45)


def test_a_request_without_consent_or_cart_says_so() -> None:
    user = draw_population(1, 1, consent_share=0.0)[0]
    request = decide_request(Ask("r", user, Moment("email", AT, "email"), 1))
    assert request.personalization_consent == pb.CONSENT_DENIED
    assert not request.HasField("cart")


def test_an_outcome_names_the_user_only_with_consent() -> None:
    kept = outcome_request(OutcomeReport("d-1", "conversion", "home-3", AT, "k-1", 42.0, "sim-u000001", True))
    assert (kept.user_id, kept.personalization_consent, kept.value, kept.idempotency_key) == (
        "sim-u000001",
        pb.CONSENT_GRANTED,
        42.0,
        "k-1",
    )
    assert kept.occurred_at.ToDatetime(UTC) == AT
    dropped = outcome_request(OutcomeReport("d-1", "click", "home-3", AT, "k-2", 0.0, "sim-u000001", False))
    assert (dropped.user_id, dropped.personalization_consent) == ("", pb.CONSENT_UNSPECIFIED)


def test_an_answer_keeps_source_items_provenance_and_the_servers_clock() -> None:
    response = pb.DecideResponse(
        decision_id="d-9",
        source=pb.DECISION_SOURCE_EXPERIMENT,
        items=[pb.Item(content_id="home-3", rank=1, probability=0.25), pb.Item(content_id="home-1", rank=2)],
        provenance=pb.Provenance(tier="bandit", experiment_id="e1", arm="b", arm_probability=0.5, details={"k": "v"}),
    )
    response.decided_at.FromDatetime(AT)
    answer = answer_from(pb.DecideBatchResult(response=response))
    assert isinstance(answer, Answer)
    assert (answer.decision_id, answer.source, answer.tier, answer.decided_at) == ("d-9", "EXPERIMENT", "bandit", AT)
    assert answer.items == (ShownItem("home-3", 0.25), ShownItem("home-1", 0.0))
    assert (answer.experiment_id, answer.arm, answer.arm_probability, answer.details) == ("e1", "b", 0.5, {"k": "v"})
    refusal = answer_from(pb.DecideBatchResult(error=pb.DecideError(code=3, message="too long", field="user_id")))
    assert refusal == Refusal(3, "too long", "user_id")


def test_the_client_refuses_a_remote_target() -> None:
    with pytest.raises(TargetError, match=re.escape("10.0.0.1 is not a loopback address")):
        GrpcDecisionApi("10.0.0.1:50051")


def test_no_server_is_one_clear_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    user = draw_population(1, 1)[0]
    expected = f"DecideBatch to 127.0.0.1:{port} failed: UNAVAILABLE: .* [(]is `decision serve` running there[?][)]"
    with GrpcDecisionApi(f"127.0.0.1:{port}", timeout=5) as api, pytest.raises(ServerError, match=expected):
        api.decide([Ask("r", user, Moment("home_banner", AT), 1)])


def test_a_real_server_answers_every_simulated_decision_and_logs_every_outcome(tmp_path: Path) -> None:
    decision_log, outcome_log, truth_file = tmp_path / "decisions.jsonl", tmp_path / "outcomes.jsonl", tmp_path / "t.pq"
    env = {
        "DECISION_RULES_PATH": str(REPO_RULES),
        "DECISION_DECISION_LOG_PATH": str(decision_log),
        "DECISION_OUTCOME_LOG_PATH": str(outcome_log),
    }
    process, port = start_server(tmp_path, env=env)
    try:
        summary = simulate(f"127.0.0.1:{port}", 2_000, seed=5, out=truth_file, users=500, progress=False)
        process.send_signal(signal.SIGTERM)  # drains and flushes both logs
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
    truths = pd.read_parquet(truth_file)
    assert (summary.asked, summary.decisions, summary.refused, len(truths)) == (2_000, 2_000, 0, 2_000)
    assert (summary.outcomes.refused, summary.outcomes.duplicates) == (0, 0)
    assert summary.outcomes.accepted == 2_000 + summary.clicks + summary.conversions

    logged = list(read_json_lines(outcome_log))
    kinds = Counter(str(o["type"]) for o in logged)
    assert kinds == Counter({"impression": 2_000, "click": summary.clicks, "conversion": summary.conversions})
    assert {str(o["decision_id"]) for o in logged} == set(truths["decision_id"])
    clicked = {(str(o["decision_id"]), str(o["content_id"])) for o in logged if o["type"] == "click"}
    assert clicked == set(truths.loc[truths["click"], ["decision_id", "content_id"]].itertuples(index=False, name=None))
    assert {str(d["decision_id"]) for d in read_decision_log(decision_log)} == set(truths["decision_id"])

    assert set(truths["source"]) <= {"RULE", "DEFAULT"}  # no model is registered
    no_consent = truths[~truths["consent"]]
    assert len(no_consent) > 0
    assert no_consent["rule_id"].str.startswith("optout_").all()
    defaults = truths[truths["source"] == "DEFAULT"]
    assert (defaults["content_id"] == defaults["placement"].map(lambda p: DEFAULT_PLACEMENTS[p][0])).all()
    assert (defaults["p_click"] == defaults["segment"].map(OTHER_CONTENT_RATE)).all()
