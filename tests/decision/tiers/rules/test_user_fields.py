"""Rules on the user's segment and RFM scores: typed, looked up only when a rule uses them."""

from __future__ import annotations

from pathlib import Path

from decision.domain import Request, Segment
from decision.tiers.rules.active import ActiveRuleset
from decision.tiers.rules.casefile import run_all
from tests.decision.tiers.rules.conftest import NOW, write

RULES = """version: "v1"
rules:
  - id: loyal_recent
    priority: 10
    when: {all: [{field: user.segment, op: ==, value: loyal}, {field: user.rfm.recency, op: ">=", value: 4}]}
    then: {content: [vip_offer]}
  - id: everyone
    priority: 1
    when: {field: placement, op: ==, value: home_banner}
    then: {content: [generic]}
tests:
  - name: a recent loyal user gets the vip offer
    request: {placement: home_banner, consent: true, user: {segment: loyal, rfm: {recency: 5}}}
    expect: {rule: loyal_recent}
  - name: a lapsing loyal user does not
    request: {placement: home_banner, consent: true, user: {segment: loyal, rfm: {recency: 2}}}
    expect: {rule: everyone}
  - name: without a segment the user fields are missing
    request: {placement: home_banner}
    expect: {rule: everyone}
"""


def test_rules_on_user_fields_pass_their_own_cases(tmp_path: Path, load: object) -> None:
    write(tmp_path, RULES)
    active = load(tmp_path)  # type: ignore[operator]
    assert [r.passed for r in run_all(active)] == [True, True, True]


def test_the_segment_is_asked_for_only_when_a_rule_uses_it(tmp_path: Path, load: object) -> None:
    asked: list[int] = []

    def segment() -> Segment | None:
        asked.append(1)
        return Segment("loyal", 5, 3, 3)

    write(tmp_path / "with", RULES)
    with_user: ActiveRuleset = load(tmp_path / "with")  # type: ignore[operator]
    assert with_user.evaluate(Request("u", "home_banner", consent=True), NOW, segment).rule_id == "loyal_recent"
    assert asked
    asked.clear()
    write(
        tmp_path / "without",
        RULES.split("  - id: everyone", 1)[0]
        .replace("user.segment", "placement")
        .replace("user.rfm.recency", "cart.item_count"),
    )
    without: ActiveRuleset = load(tmp_path / "without")  # type: ignore[operator]
    without.evaluate(Request("u", "email", consent=True), NOW, segment)
    assert asked == []
