"""The rule tier behind the real server: decisions with provenance, readiness, hot reload."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2_grpc

from decision.runtime.app import App
from decision.runtime.server import RunningServer, build_server
from decision.settings import Settings
from decision.tiers.rules.store import RulesetStore
from decision.tiers.rules.tier import RulesTier
from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc
from tests.conftest import is_serving

REPO_RULES = Path(__file__).resolve().parents[2] / "rules"


@dataclass
class RulesServer:
    app: App
    running: RunningServer
    stub: pb_grpc.DecisionServiceStub
    health: health_pb2_grpc.HealthStub
    rules_dir: Path


def _start(rules_dir: Path) -> tuple[App, RunningServer]:
    settings = Settings(
        listen="127.0.0.1:0", metrics_port=0, decision_log_path=None, rules_path=rules_dir, rules_poll_seconds=0.05
    )
    app = App(settings)
    running = build_server(settings, app.decider, app.outcomes, app.live)
    app.start(running.mark_serving)
    return app, running


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(REPO_RULES, target)
    return target


@pytest.fixture
def served(rules_dir: Path) -> Iterator[RulesServer]:
    app, running = _start(rules_dir)
    with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        stub = pb_grpc.DecisionServiceStub(channel)
        yield RulesServer(app, running, stub, health_pb2_grpc.HealthStub(channel), rules_dir)
    running.server.stop(0).wait()
    app.stop()


def cart_request(idle_minutes: float, value: float = 50.0) -> pb.DecideRequest:
    request = pb.DecideRequest(
        user_id="u1",
        placement="home_banner",
        cart=pb.Cart(item_count=2, value=value, currency="EUR"),
        personalization_consent=pb.CONSENT_GRANTED,
    )
    request.cart.updated_at.FromDatetime(datetime.now(UTC) - timedelta(minutes=idle_minutes))
    return request


def _wait_for(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_a_shipped_rule_decides_with_rule_id_version_and_parameters(served: RulesServer) -> None:
    assert is_serving(served.health)
    response = served.stub.Decide(cart_request(idle_minutes=45, value=250), timeout=5)
    assert response.source == pb.DECISION_SOURCE_RULE
    assert response.provenance.rule_id == "cart_reminder_high_value"
    assert response.provenance.ruleset_version == "2026.11.25-1"
    assert len(response.provenance.ruleset_hash) == 64
    assert [i.content_id for i in response.items] == ["cart_reminder_premium"]
    assert response.items[0].parameters["discount_code"] == "COMEBACK15"


def test_no_rule_match_carries_the_ruleset_version_and_reason(served: RulesServer) -> None:
    response = served.stub.Decide(cart_request(idle_minutes=5), timeout=5)
    assert response.source == pb.DECISION_SOURCE_DEFAULT
    assert response.provenance.ruleset_version == "2026.11.25-1"
    assert response.provenance.fallback_reasons[0] == pb.FALLBACK_REASON_NO_RULE_MATCHED


def test_no_consent_gets_only_non_personalized_content(served: RulesServer) -> None:
    request = cart_request(idle_minutes=45)
    request.personalization_consent = pb.CONSENT_DENIED
    response = served.stub.Decide(request, timeout=5)
    assert response.source == pb.DECISION_SOURCE_RULE
    assert response.provenance.rule_id.startswith("optout_")


def _bump_version(rules_dir: Path, version: str) -> None:
    """Write every file of the folder anew with another version, each by temp file + rename."""
    for path in sorted(rules_dir.glob("*.yaml")):
        text = path.read_text().replace('version: "2026.11.25-1"', f'version: "{version}"')
        partial = path.with_suffix(".tmp")
        partial.write_text(text)
        partial.replace(path)


def test_hot_reload_under_load_switches_cleanly_with_no_failed_call(served: RulesServer) -> None:
    seen: list[str] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def caller() -> None:
        while not stop.is_set():
            try:
                response = served.stub.Decide(cart_request(idle_minutes=45), timeout=5)
                seen.append(response.provenance.ruleset_version)
            except grpc.RpcError as exc:
                failures.append(exc)

    threads = [threading.Thread(target=caller) for _ in range(3)]
    for thread in threads:
        thread.start()
    _wait_for(lambda: len(seen) > 20)
    _bump_version(served.rules_dir, "2026.11.25-2")
    _wait_for(lambda: seen[-1] == "2026.11.25-2")
    count = len(seen)
    _wait_for(lambda: len(seen) > count + 20)
    stop.set()
    for thread in threads:
        thread.join(5)
    assert failures == []
    switch = seen.index("2026.11.25-2")
    assert set(seen[:switch]) == {"2026.11.25-1"}
    assert set(seen[switch + 3 :]) == {"2026.11.25-2"}  # 3 callers: at most 2 finish on the old one


def test_a_broken_file_is_refused_and_the_old_version_keeps_answering(served: RulesServer) -> None:
    with (served.rules_dir / "region_promos.yaml").open("a") as out:
        out.write("\n  - id: [unclosed\n")
    _wait_for(lambda: bool(rules_store(served.app).status()["last_error"]))
    response = served.stub.Decide(cart_request(idle_minutes=45, value=250), timeout=5)
    assert response.provenance.rule_id == "cart_reminder_high_value"
    assert response.provenance.ruleset_version == "2026.11.25-1"
    assert is_serving(served.health)


def test_start_with_broken_rules_is_not_serving_until_fixed(rules_dir: Path) -> None:
    good = (rules_dir / "region_promos.yaml").read_text()
    (rules_dir / "region_promos.yaml").write_text(good + "\n  - id: [unclosed\n")
    app, running = _start(rules_dir)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            assert not is_serving(health)
            assert rules_store(app).status()["last_error"]
            (rules_dir / "region_promos.yaml").write_text(good)
            _wait_for(lambda: is_serving(health))
    finally:
        running.server.stop(0).wait()
        app.stop()


def rules_store(app: App) -> RulesetStore:
    tier = app.tier("rules")
    assert isinstance(tier, RulesTier)
    return tier.store
