"""Evaluation through the real engine: priority, ties, filters, windows, typing, provenance."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decision.conditions import facts
from decision.conditions.errors import SpecFileError
from decision.conditions.fields import FieldType
from decision.domain import Cart, Context, Request
from decision.tiers.rules.active import ActiveRuleset
from decision.tiers.rules.engine import ENGINE, Engine, _action
from decision.tiers.rules.errors import RuleEngineError
from decision.tiers.rules.translate import CATCH_ALL
from tests.decision.tiers.rules.conftest import DATA, NOW, write

Load = Callable[[Path], ActiveRuleset]


def req(placement: str = "home_banner", **attributes: object) -> Request:
    return Request("u1", placement, consent=True, attributes=attributes)  # type: ignore[arg-type]


def test_highest_priority_wins_and_outcome_names_rule_and_version(load: Load) -> None:
    active = load(DATA / "valid" / "ties.yaml")
    outcome = active.evaluate(req(segment="vip", score=0.9), NOW)
    assert (outcome.rule_id, outcome.ruleset_version) == ("high", "t1")
    assert outcome.ruleset_hash == active.compiled.content_hash
    assert outcome.content_ids == ("c_high",)
    assert dict(outcome.parameters) == {"discount_code": "HIGH9"}


def test_equal_priority_goes_to_the_rule_declared_first(load: Load) -> None:
    active = load(DATA / "valid" / "ties.yaml")
    assert active.evaluate(req(segment="vip", flag=True), NOW).rule_id == "first_declared"
    assert active.evaluate(req(segment="regular", flag=True), NOW).rule_id == "second_declared"


def test_tie_order_across_files_follows_file_names(tmp_path: Path, load: Load) -> None:
    rule = 'version: "v"\nrules:\n  - {id: %s, priority: 3, then: {content: [%s]}}\n'
    write(tmp_path, rule % ("from_b", "b"), "b.yaml")
    write(tmp_path, rule % ("from_a", "a"), "a.yaml")
    assert load(tmp_path).evaluate(req(), NOW).rule_id == "from_a"


def test_negation_never_matches_a_missing_field(load: Load) -> None:
    active = load(DATA / "valid" / "ties.yaml")
    assert active.evaluate(req(flag=False), NOW).rule_id == "negative"
    assert active.evaluate(req(flag=True), NOW).rule_id == "low"
    assert active.evaluate(req(), NOW).rule_id == "low"  # flag missing: unknown, not true


def test_type_confusion_never_fires_a_numeric_rule(load: Load) -> None:
    active = load(DATA / "valid" / "ties.yaml")
    for odd in ("abc", "3", True, float("nan"), float("inf")):
        assert active.evaluate(req(score=odd), NOW).rule_id == "low"  # type: ignore[arg-type]


def test_no_match_gives_an_outcome_without_rule(tmp_path: Path, load: Load) -> None:
    path = write(
        tmp_path,
        'version: "v"\nrules:\n  - {id: only, priority: 1, placements: [email], then: {content: [x]}}\n',
    )
    outcome = load(path).evaluate(req("home_banner"), NOW)
    assert outcome.rule_id is None
    assert outcome.ruleset_version == "v"
    assert outcome.content_ids == ()


WINDOW = """version: "w"
rules:
  - id: sale
    priority: 1
    placements: [product_page, email]
    active: {from: "2026-12-01T00:00:00", until: "2026-12-02T00:00:00", timezone: Europe/Berlin}
    then: {content: [sale]}
"""


@pytest.mark.parametrize(
    ("now", "placement", "fires"),
    [
        (datetime(2026, 11, 30, 22, 59, 59, tzinfo=UTC), "email", False),
        (datetime(2026, 11, 30, 23, 0, 0, tzinfo=UTC), "email", True),
        (datetime(2026, 12, 1, 22, 59, 59, 999000, tzinfo=UTC), "product_page", True),
        (datetime(2026, 12, 1, 23, 0, 0, tzinfo=UTC), "product_page", False),
        (datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC), "home_banner", False),
    ],
)
def test_window_and_placement_filters(tmp_path: Path, load: Load, now: datetime, placement: str, fires: bool) -> None:
    outcome = load(write(tmp_path, WINDOW)).evaluate(req(placement), now)
    assert (outcome.rule_id == "sale") is fires


def test_idle_minutes_is_measured_at_server_now(load: Load) -> None:
    active = load(Path("rules"))
    cart = Cart(1, 20.0, "EUR", NOW - timedelta(minutes=30))
    request = Request("u", "home_banner", cart=cart, consent=True, context=Context(region="US"))
    assert active.evaluate(request, NOW).rule_id == "cart_reminder"
    assert active.evaluate(request, NOW - timedelta(seconds=1)).rule_id is None


def test_priorities_compile_to_engine_pri_with_catch_all_last(load: Load) -> None:
    (definition,) = load(DATA / "valid" / "ties.yaml").compiled.definitions
    order = sorted(definition, key=lambda rule_id: definition[rule_id]["pri"])
    assert order == ["high", "negative", "first_declared", "second_declared", "low", CATCH_ALL]


def test_the_required_action_takes_one_parameter_and_does_nothing() -> None:
    assert _action.__code__.co_argcount == 1  # two would make durable-rules call it async
    assert _action(object()) is None


def test_unloaded_versions_leave_the_engine(tmp_path: Path) -> None:
    path = write(tmp_path, 'version: "v"\nrules: []\n')
    from decision.tiers.rules.compiler import compile_path

    active = ActiveRuleset(compile_path(path))
    (chunk,) = active.chunks
    assert chunk.name in ENGINE.live_names()
    active.close()
    assert chunk.name not in ENGINE.live_names()


def test_engine_refusal_is_an_error_not_a_crash(tmp_path: Path) -> None:
    engine = Engine()
    loaded = engine.load("probe", {CATCH_ALL: {"all": [{"m": {"$ex": {"live": 1}}}], "pri": 0}})
    with pytest.raises(Exception, match="refused the event"):
        engine.fire(loaded, {"live": True, "x": 1e300})  # exponent notation: error 204
    assert engine.fire(loaded, {"live": True}) is None  # still serving afterwards
    engine.unload(loaded)


def test_one_session_serves_every_decision_and_a_refused_one_is_abandoned() -> None:
    """Posts reuse the chunk's session (no per-decision state to build and delete); after a
    refusal the half-built session is never posted to again."""
    engine = Engine()
    definition = {
        "big": {"all": [{"m": {"$and": [{"$ex": {"live": 1}}, {"$gte": {"v": 10}}]}}], "pri": 0},
        CATCH_ALL: {"all": [{"m": {"$ex": {"live": 1}}}], "pri": 1},
    }
    loaded = engine.load("sessions", definition)
    session = loaded.session
    answers = [engine.fire(loaded, {"live": True, "v": float(i % 20)}) for i in range(2_000)]
    assert answers == ["big" if i % 20 >= 10 else None for i in range(2_000)]
    assert loaded.session == session
    with pytest.raises(RuleEngineError, match="refused the event"):
        engine.fire(loaded, {"live": True, "v": 1e300})
    assert loaded.session != session
    assert engine.fire(loaded, {"live": True, "v": 12.0}) == "big"
    engine.unload(loaded)


def test_unload_deletes_only_a_session_whose_last_post_completed() -> None:
    """delete_ruleset leaves session state behind, so unload deletes it first, but only when
    the engine holds it cleanly: a session never posted to does not exist (error 309) and a
    refused one may be half-built (deleting it can abort the process)."""
    engine = Engine()
    definition = {CATCH_ALL: {"all": [{"m": {"$ex": {"live": 1}}}], "pri": 0}}
    never_posted = engine.load("fresh", definition)
    assert not never_posted.session_in_engine
    engine.unload(never_posted)
    served = engine.load("served", definition)
    assert engine.fire(served, {"live": True}) is None
    assert served.session_in_engine
    engine.unload(served)
    refused = engine.load("refused", definition)
    assert engine.fire(refused, {"live": True}) is None
    with pytest.raises(RuleEngineError, match="refused the event"):
        engine.fire(refused, {"live": True, "x": 1e300})
    assert not refused.session_in_engine
    engine.unload(refused)
    assert not {served.name, refused.name, never_posted.name} & set(engine.live_names())


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (float("nan"), FieldType.NUMBER, None),
        (float("-inf"), FieldType.NUMBER, None),
        (1e300, FieldType.NUMBER, 1e15),
        (-1e300, FieldType.NUMBER, -1e15),
        (1e-7, FieldType.NUMBER, 0.0),
        (-0.0, FieldType.NUMBER, 0.0),
        (True, FieldType.NUMBER, None),
        ("3", FieldType.NUMBER, None),
        ("", FieldType.STRING, None),
        ("x" * 257, FieldType.STRING, None),
        ("\ud800", FieldType.STRING, None),
        (1.0, FieldType.STRING, None),
        ("yes", FieldType.BOOL, None),
        ("abc", None, True),
        (None, None, None),
    ],
)
def test_sanitizer(value: object, kind: FieldType | None, expected: object) -> None:
    assert facts.clean(value, kind) == expected


@settings(max_examples=3000, deadline=None)
@given(
    st.one_of(
        st.floats(-1e15, 1e15, allow_nan=False),
        st.floats(-(2.0**31), 2.0**31, allow_nan=False),
        st.integers(-(10**9), 10**9).map(lambda k: k / 10**4),  # values with at most 4 decimals
        st.integers(-(10**9), 10**9).map(lambda k: k / 10**4 + 5e-5),  # and half-way points
    )
)
def test_number_cleaning_equals_rounding_to_four_decimals(value: float) -> None:
    """The cleaner skips round() when a number needs no rounding: it must not change a result."""
    assert facts.clean(value, FieldType.NUMBER) == round(value, 4) + 0.0


def test_many_simultaneous_matches_are_split_below_the_engine_stack_limit(tmp_path: Path, load: Load) -> None:
    """700 rules that all match once crashed the engine (error 303, then abort on delete)."""
    body = "".join(
        f'  - {{id: r{i}, priority: {i % 50}, when: {{field: cart.value, op: ">=", value: {i}}}, '
        f"then: {{content: [c{i}]}}}}\n"
        for i in range(700)
    )
    active = load(write(tmp_path, f'version: "many"\nrules:\n{body}'))
    assert len(active.chunks) > 1
    request = Request("u", "email", cart=Cart(1, 5000.0), consent=True)
    assert active.evaluate(request, NOW).rule_id == "r49"  # priority 49, declared first
    assert active.evaluate(Request("u", "email", cart=Cart(1, 120.0)), NOW).rule_id == "r49"
    assert active.evaluate(Request("u", "email", cart=Cart(1, 30.5)), NOW).rule_id == "r30"


def test_a_rule_with_too_many_simultaneous_alternatives_is_refused(tmp_path: Path) -> None:
    leaves = ", ".join(f'{{field: cart.value, op: ">", value: {i}}}' for i in range(7))
    condition = f"{{all: [{{any: [{leaves}]}}, {{any: [{leaves}]}}]}}"
    path = write(
        tmp_path,
        f'version: "x"\nrules:\n  - {{id: wide, priority: 1, when: {condition}, then: {{content: [a]}}}}\n',
    )
    from decision.tiers.rules.compiler import compile_path

    with pytest.raises(SpecFileError, match=r"rule wide: condition has 49 alternatives .* split the rule"):
        compile_path(path)


def test_a_ruleset_the_engine_keeps_refusing_is_quarantined() -> None:
    """Refused posts are not followed by delete_state, so they are bounded
    (engine error 303; docs/hazards.md#engine-session-limit)."""
    from decision.tiers.rules.engine import LEAK_LIMIT

    engine = Engine()
    loaded = engine.load("leaky", {CATCH_ALL: {"all": [{"m": {"$ex": {"live": 1}}}], "pri": 0}})
    for _ in range(LEAK_LIMIT):
        with pytest.raises(RuleEngineError, match="refused the event"):
            engine.fire(loaded, {"live": True, "x": 1e300})
    with pytest.raises(RuleEngineError, match="quarantined"):
        engine.fire(loaded, {"live": True})
    engine.unload(loaded)


def test_the_fired_rule_is_read_from_the_action_message_and_an_odd_message_is_refused() -> None:
    from decision.tiers.rules.engine import _rule_name

    assert _rule_name('{"cart.high-value_1":{"m":{"live": true}}}') == "cart.high-value_1"
    for odd in ('["r1"]', '{"r1": 1}', "{}"):
        with pytest.raises(RuleEngineError, match="unexpected action message"):
            _rule_name(odd)
