"""`rules validate|test|explain` as operators run them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from decision.tiers.rules.cli import rules
from tests.decision.tiers.rules.conftest import DATA


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(rules, list(args))
    return result.exit_code, result.output


def test_validate_shipped_rules() -> None:
    code, out = run("validate", "rules")
    assert code == 0
    assert out.startswith("OK rules: version ")


def test_validate_lists_every_problem_and_fails() -> None:
    code, out = run("validate", str(DATA / "invalid" / "unknown_field.yaml"))
    assert code == 1
    assert "unknown_field.yaml:5: rule typo_field: unknown field 'context.regoin'" in out
    assert "1 problem; nothing was activated." in out


def test_test_command_prints_each_case_and_summary() -> None:
    code, out = run("test", "rules")
    lines = out.splitlines()
    assert code == 0
    assert lines[0].startswith("PASS cart_abandonment.yaml::")
    assert lines[-1] == f"PASS {len(lines) - 1}/{len(lines) - 1}"


def test_test_command_fails_with_why() -> None:
    code, out = run("test", str(DATA / "invalid" / "failing_test.yaml"))
    assert code == 1
    assert "FAIL failing_test.yaml::expects the wrong rule: expected rule something_else" in out
    assert out.splitlines()[-1] == "FAIL 0/1"


def test_explain_shows_matches_and_winner(tmp_path: Path) -> None:
    body = {
        "placement": "email",
        "consent": True,
        "cart": {"item_count": 2, "value": 250, "idle_minutes": 40},
    }
    request_file = tmp_path / "req.json"
    request_file.write_text(json.dumps(body))
    code, out = run("explain", "rules", "--request", f"@{request_file}", "--now", "2026-12-10T12:00:00Z")
    assert code == 0, out
    assert "MATCH cart_reminder_high_value (priority 200)" in out
    assert "MATCH cart_reminder (priority 100)" in out
    assert "winner: cart_reminder_high_value" in out
    assert "highest priority of 2 matches" in out


def test_explain_rejects_a_bad_request() -> None:
    code, out = run("explain", "rules", "--request", '{"placement": 3}')
    assert code == 2
    assert "--request" in out
