"""durable-rules versus the plain-Python reference, over generated requests and rulesets."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decision.domain import Cart, Context, Request
from decision.tiers.rules import reference, translate
from decision.tiers.rules.active import ActiveRuleset
from decision.tiers.rules.compiler import compile_path
from tests.decision.tiers.rules.conftest import DATA, write

Load = Callable[[Path], ActiveRuleset]
# The MALLOC_PERTURB_ child run (test_engine_safety) needs coverage of the paths, not volume.
SCALE = 0.1 if os.environ.get("MALLOC_PERTURB_") else 1.0
BOUNDARIES = (0, 2, 1, 3, 7, 100, -5.5, 30.25, 22, 50, 0.5, 0.7, 1, 1e12, 1e15)
WINDOW_EDGE = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)

edge_numbers = st.one_of(
    st.sampled_from(BOUNDARIES).flatmap(lambda b: st.sampled_from([b, b + 0.0001, b - 0.0001, -b, b + 0.00001])),
    st.floats(allow_nan=False, allow_infinity=True, width=64),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.just(-0.0),
)
texts = st.one_of(
    st.sampled_from(
        [
            "",
            "DE",
            "US",
            "CA",
            "mobile",
            "app",
            "vip",
            "gold",
            "de-DE",
            "é",
            "日本",
            "a b",
            "DE ",
            "de",
            "NO",
            "x" * 256,
            "x" * 257,
        ]
    ),
    st.text(max_size=12),
)
scalars = st.one_of(edge_numbers, texts, st.booleans())
attributes = st.dictionaries(
    st.sampled_from(["score", "segment", "beta", "coupon", "other", "Score"]), scalars, max_size=5
)
moments = st.one_of(
    st.just(WINDOW_EDGE),
    st.integers(-3, 3).map(lambda s: WINDOW_EDGE + timedelta(seconds=s)),
    st.integers(-2 * 86400, 2 * 86400).map(lambda s: WINDOW_EDGE + timedelta(seconds=s)),
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[Request, datetime]:
    now = draw(moments)
    idle = draw(st.one_of(st.none(), edge_numbers.filter(lambda m: abs(m) < 1e8)))
    cart = Cart(
        item_count=draw(st.one_of(st.sampled_from([0, 1, 2, 3, 7, -1]), st.integers(-(2**40), 2**40))),
        value=draw(edge_numbers),
        currency=draw(st.sampled_from(["", "EUR", "USD"])),
        updated_at=None if idle is None else now - timedelta(minutes=idle),
    )
    hour = draw(st.one_of(st.none(), st.integers(0, 23)))
    context = Context(
        region=draw(texts),
        device=draw(texts),
        channel=draw(texts),
        locale=draw(texts),
        client_time=None if hour is None else datetime(2026, 1, 1, hour, tzinfo=UTC),
    )
    placement = draw(st.sampled_from(["home_banner", "email", "cart_page", "product_page", ""]))
    request = Request(
        "u",
        placement,
        context=context,
        cart=cart,
        attributes=draw(attributes),
        consent=draw(st.booleans()),
    )
    return request, now


def agree(active: ActiveRuleset, request: Request, now: datetime) -> None:
    facts = active.event(request, now)
    expected = reference.decide(active.compiled, facts)
    got = active.evaluate(request, now).rule_id
    assert got == (expected.id if expected else None), facts


def test_engine_equals_reference_on_generated_requests(load: Load) -> None:
    active = load(DATA / "valid" / "differential.yaml")

    @settings(
        max_examples=int(400 * SCALE),
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.lists(requests(), min_size=5, max_size=5))
    def check(cases: list[tuple[Request, datetime]]) -> None:
        for case in cases:
            agree(active, *case)

    check()


LEAF_FIELDS = {
    "cart.value": ("<", ">=", "==", "in"),
    "cart.idle_minutes": (">", "<=", "!="),
    "context.region": ("==", "!=", "in", "not_in"),
    "attributes.segment": ("==", "in"),
    "consent": ("==",),
}


@st.composite
def conditions(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["leaf", "leaf", "all", "any", "not", "exists"] if depth < 3 else ["leaf"]))
    if kind in ("all", "any"):
        items = draw(st.lists(conditions(depth + 1), min_size=1, max_size=3))
        return f"{{{kind}: [{', '.join(items)}]}}"
    if kind == "not":
        return f"{{not: {draw(conditions(depth + 1))}}}"
    field = draw(st.sampled_from(sorted(LEAF_FIELDS)))
    if kind == "exists":
        return f"{{field: {field}, op: {draw(st.sampled_from(['exists', 'missing']))}}}"
    op = draw(st.sampled_from(LEAF_FIELDS[field]))
    if field == "consent":
        value = draw(st.sampled_from(["true", "false"]))
    elif field in ("cart.value", "cart.idle_minutes"):
        value = str(draw(st.sampled_from([0, 50, 100, -5.5, 30.25])))
    else:
        value = f'"{draw(st.sampled_from(["DE", "US", "vip", "gold"]))}"'
    if op in ("in", "not_in"):
        value = f"[{value}, {value.replace('DE', 'FR').replace('vip', 'x')}]"
    return f'{{field: {field}, op: "{op}", value: {value}}}'


@settings(
    max_examples=max(2, int(20 * SCALE)),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    rules=st.lists(st.tuples(st.integers(0, 3), conditions()), min_size=1, max_size=6),
    cases=st.lists(requests(), min_size=20, max_size=20),
)
def test_engine_equals_reference_on_generated_rulesets(
    tmp_path_factory: object, rules: list[tuple[int, str]], cases: list[tuple[Request, datetime]]
) -> None:
    folder = tmp_path_factory.mktemp("gen")  # type: ignore[attr-defined]
    body = "".join(
        f"  - {{id: r{i}, priority: {prio}, when: {cond}, then: {{content: [c{i}]}}}}\n"
        for i, (prio, cond) in enumerate(rules)
    )
    compiled = compile_path(write(folder, f'version: "g"\nrules:\n{body}'))
    # the same rules split into many small engine rulesets must decide the same
    small = translate.definitions(compiled.rules, compiled.key_of, budget=2)
    versions = [ActiveRuleset(compiled), ActiveRuleset(replace(compiled, definitions=tuple(small)))]
    try:
        for request, now in cases:
            for active in versions:
                agree(active, request, now)
    finally:
        for active in versions:
            active.close()
