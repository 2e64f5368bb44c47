"""Adding a tier is a new package plus one entry in the `tiers` setting: no edit to the service.

The toy tier lives in a package written into a temporary folder (outside the repository)
and is named only in DECISION_TIERS; a real `decision serve` answers with it, with its
provenance, and passes to the next tier where it does not apply.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import grpc
import pytest

from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc
from tests.integration.serving import start_server

TOY_TIER = '''
"""A toy tier: a seasonal promo on the home banner, nothing elsewhere."""

from decision.domain import FallbackReason, Item, Provenance, Source
from decision.pipeline.tier import Answer


class SeasonalPromo:
    error_reason = FallbackReason.TIER_ERROR
    min_budget_seconds = 0.0

    def __init__(self, name: str) -> None:
        self.name = name

    def decide(self, context):
        if context.request.placement != "home_banner":
            return FallbackReason.NOT_APPLICABLE
        return Answer(Source.OTHER, (Item("winter_promo", 1.0, 1),), Provenance(details={"campaign": "winter"}))


def build(env):
    return SeasonalPromo(env.name)
'''

RULES = """version: "toy-1"
rules:
  - id: optout_email
    priority: 10
    when: {field: placement, op: "==", value: email}
    then: {content: [email_generic]}
"""


def ask(port: int, placement: str) -> pb.DecideResponse:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        request = pb.DecideRequest(user_id="u1", placement=placement, personalization_consent=pb.CONSENT_GRANTED)
        return pb_grpc.DecisionServiceStub(channel).Decide(request, timeout=5)


@pytest.fixture
def toy_package(tmp_path: Path) -> Path:
    package = tmp_path / "plugins" / "toy_tiers"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "seasonal.py").write_text(textwrap.dedent(TOY_TIER))
    return package.parent


def test_a_tier_added_by_configuration_answers_with_its_provenance(tmp_path: Path, toy_package: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "rules.yaml").write_text(RULES)
    tiers = json.dumps(["rules", "promo=toy_tiers.seasonal:build", "model", "default"])
    env = {"DECISION_TIERS": tiers, "DECISION_RULES_PATH": str(rules), "PYTHONPATH": str(toy_package)}
    process, port = start_server(tmp_path, env=env)
    try:
        promo = ask(port, "home_banner")
        assert promo.source == pb.DECISION_SOURCE_OTHER
        assert [item.content_id for item in promo.items] == ["winter_promo"]
        assert promo.provenance.tier == "promo"
        assert dict(promo.provenance.details) == {"campaign": "winter"}
        assert promo.provenance.ruleset_version == "toy-1"  # the rules were evaluated first
        assert list(promo.provenance.fallback_reasons) == [pb.FALLBACK_REASON_NO_RULE_MATCHED]

        passed = ask(port, "cart_page")  # the toy does not apply: the model (none loaded), then the default
        assert passed.source == pb.DECISION_SOURCE_DEFAULT
        assert passed.provenance.tier == "default"
        assert list(passed.provenance.fallback_reasons) == [
            pb.FALLBACK_REASON_NO_RULE_MATCHED,
            pb.FALLBACK_REASON_NOT_APPLICABLE,
            pb.FALLBACK_REASON_NO_MODEL,
        ]
        assert ask(port, "email").provenance.rule_id == "optout_email"  # rules still come first
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def test_a_misnamed_tier_is_refused_at_start_with_a_suggestion(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "decision",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tiers",
            '["rules", "modle", "default"]',
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "unknown tier 'modle' (did you mean 'model'?)" in result.stderr


def test_the_last_tier_must_be_the_default(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "decision", "serve", "--tiers", '["rules", "model"]'],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert 'the last tier must be "default"' in result.stderr
