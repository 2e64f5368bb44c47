"""The shared feature definitions: shape, cold start, codes from the spec, clocks, sessions, pairs."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decision.domain import Cart, Context, Request
from decision.sources import features
from decision.sources.feature_spec import FeatureSpec, ItemStats
from decision.sources.features import (
    CATEGORICAL_FEATURES,
    FEATURE_NAMES,
    FEATURE_SET_VERSION,
    SHARED,
    Profile,
    excluded,
    feature_set_version,
    item_columns,
    row_buffer,
    rows,
    view,
)
from training import truth

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday
ITEMS = ("a1", "a2", "b1", "b2")


def make_spec(repeatable: tuple[bool, ...] = (True, True, False, False)) -> FeatureSpec:
    """Four items in two categories and one context content ("z"): antecedents a1 a2 b1 b2 z."""
    stats = ItemStats(len(ITEMS), len(ITEMS) + 1)
    stats.clicks[:] = (6, 2, 2, 0)
    stats.clicks_total = 10.0
    stats.recent[:] = (1, 1, 2, 0)
    stats.recent_total = 4.0
    stats.engaged_users[:] = (4, 2, 2, 0, 5)
    stats.order_sum[:] = (0, 2, 6, 0, 10)
    stats.successors[:] = (4, 1, 1, 0, 2)
    stats.follows[4] = (1, 1, 2, 0)  # after "z"
    stats.follows[0] = (0, 2, 1, 0)  # after "a1"
    stats.next[4] = (0, 1, 1, 0)
    stats.near_out[:] = (3, 2, 2, 0, 6)
    stats.near[4] = (2, 1, 3, 0)
    return FeatureSpec(
        items=ITEMS,
        item_categories=("alpha", "alpha", "beta", "rare"),
        repeatable=repeatable,
        categories=("alpha", "beta"),
        regions=("X", "Y"),
        devices=("phone", "desk"),
        channels=("web",),
        placements=("p1", "p2"),
        stats=stats,
        context_items=("z",),
    )


SPEC = make_spec()
ALL = np.arange(len(ITEMS))


def at(out: np.ndarray, name: str, row: int = 0) -> float:
    return float(out[row, FEATURE_NAMES.index(name)])


def profile(**overrides: object) -> Profile:
    fields: dict[str, object] = {
        "user_id": "u1",
        "as_of": NOW,
        "first_seen": NOW - timedelta(days=10),
        "last_seen": NOW - timedelta(minutes=10),
        "session_start": NOW - timedelta(minutes=25),
        "events": 12,
        "sessions": 3,
        "session_events": 4,
        "views": 8,
        "clicks": 4,
        "purchases": 1,
        "monetary": 80.0,
        "last_purchase": NOW - timedelta(days=2),
        "last_content": "a1",
        "content_clicks": {"a1": 3, "elsewhere": 1},
        "category_views": {"alpha": 6, "": 2},
        "category_events": {"alpha": 6, "other": 2},
        "category_last": {"alpha": (NOW - timedelta(hours=5)).timestamp()},
        "engaged": ("b1", "z", "a1"),
    }
    fields.update(overrides)
    return Profile(**fields)  # type: ignore[arg-type]


def request(placement: str = "p2", **context: object) -> Request:
    return Request(user_id="u1", placement=placement, context=Context(**context))  # type: ignore[arg-type]


def test_names_are_unique_and_version_is_a_short_hash() -> None:
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert set(CATEGORICAL_FEATURES) <= set(FEATURE_NAMES)
    assert len(FEATURE_SET_VERSION) == 12
    int(FEATURE_SET_VERSION, 16)


def test_version_changes_with_any_definition_or_constant() -> None:
    base = feature_set_version((("a", "count of a"),), 1800)
    assert feature_set_version((("a", "count of a"),), 1800) == base
    assert feature_set_version((("a", "share of a"),), 1800) != base
    assert feature_set_version((("b", "count of a"),), 1800) != base
    assert feature_set_version((("a", "count of a"),), 3600) != base


def test_the_feature_code_names_no_value_of_the_sample_data() -> None:
    """Vocabularies come from the spec: no region, device, channel, placement, category or
    content id of the synthetic world may appear in the serving-side feature code."""
    root = Path(__file__).resolve().parents[3] / "decision" / "sources"
    sample = {*truth.REGIONS, *truth.DEVICES, *truth.CHANNELS, *truth.PLACEMENTS, *truth.CATEGORIES}
    modules = ("features.py", "feature_definitions.py", "pair_features.py", "feature_spec.py", "candidates.py")
    for module in (*modules, "profiles.py", "catalog.py"):
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_-]*", (root / module).read_text()))
        assert not words & sample, (module, sorted(words & sample))


def test_rows_are_float64_one_per_candidate_of_the_declared_width() -> None:
    out = rows(SPEC, SPEC.stats, profile(), request(region="X"), NOW, np.array([2, 0]))
    assert out.dtype == np.float64
    assert out.shape == (2, len(FEATURE_NAMES))
    assert (at(out, "item", 0), at(out, "item", 1)) == (3, 1)
    np.testing.assert_array_equal(out[0, :SHARED], out[1, :SHARED])


def test_cold_start_has_no_history_values_and_keeps_context() -> None:
    out = rows(SPEC, SPEC.stats, None, request(region="Y", device="desk", channel="web"), NOW, ALL)
    assert at(out, "has_history") == 0
    assert at(out, "events") == 0
    assert math.isnan(at(out, "recency_hours"))
    assert math.isnan(at(out, "tenure_days"))
    assert (at(out, "region"), at(out, "device"), at(out, "channel"), at(out, "placement")) == (2, 2, 1, 2)
    assert at(out, "item_clicks") == at(out, "co_engagement") == at(out, "category_share") == 0
    assert math.isnan(at(out, "category_hours"))
    assert at(out, "order_gap", 1) == -1.0  # minus item_order of a2 (2 contents before it, 2 users)


def test_user_block_from_profile() -> None:
    out = rows(SPEC, SPEC.stats, profile(), request(), NOW, ALL)
    assert at(out, "has_history") == 1
    assert at(out, "avg_order_value") == 80.0
    assert at(out, "click_rate") == 0.5
    assert at(out, "engaged_items") == 3
    assert at(out, "recency_hours") == pytest.approx(10 / 60)
    assert at(out, "tenure_days") == pytest.approx(10)
    assert at(out, "days_since_purchase") == pytest.approx(2)


def test_item_block_from_the_spec_and_its_statistics() -> None:
    out = rows(SPEC, SPEC.stats, None, request(), NOW, ALL)
    assert [at(out, "item_category", i) for i in range(4)] == [1, 1, 2, 0]  # "rare" is not in the vocabulary
    assert [at(out, "item_popularity", i) for i in range(4)] == pytest.approx([0.6, 0.2, 0.2, 0.0])
    assert [at(out, "item_recent_popularity", i) for i in range(4)] == [0.25, 0.25, 0.5, 0.0]
    assert at(out, "item_trend", 2) == pytest.approx(2.5)
    assert math.isnan(at(out, "item_trend", 3))  # never clicked
    assert [at(out, "item_order", i) for i in range(3)] == [0.0, 1.0, 3.0]
    assert math.isnan(at(out, "item_order", 3))


def test_pair_block_relates_the_user_to_each_candidate() -> None:
    out = rows(SPEC, SPEC.stats, profile(), request(), NOW, ALL)
    assert [at(out, "item_clicks", i) for i in range(4)] == [3, 0, 0, 0]
    assert [at(out, "item_is_last", i) for i in range(4)] == [1, 0, 0, 0]
    assert [at(out, "category_share", i) for i in range(4)] == [
        0.75,
        0.75,
        0.0,
        0.25,
    ]  # "other" and "rare" share code 0
    assert at(out, "category_hours", 0) == pytest.approx(5)
    assert math.isnan(at(out, "category_hours", 2))
    # engaged b1, z, a1: follows rows 2, 4, 0 summed over engaged users 2 + 5 + 4
    assert [at(out, "co_engagement", i) for i in range(4)] == pytest.approx([1 / 11, 3 / 11, 3 / 11, 0.0])
    # the last three (b1, z, a1): next rows summed over successors 1 + 2 + 4
    assert [at(out, "next_after_recent", i) for i in range(4)] == pytest.approx([0.0, 1 / 7, 1 / 7, 0.0])
    # the last five (all three): near rows over near_out 2 + 6 + 3
    assert [at(out, "near_recent", i) for i in range(4)] == pytest.approx([2 / 11, 1 / 11, 3 / 11, 0.0])
    assert at(out, "order_gap", 2) == 3 - 3.0
    assert at(out, "order_after_last", 2) == 3.0 - 0.0  # item_order of b1 minus that of a1


def test_contents_outside_the_spec_do_not_count_as_engaged() -> None:
    out = rows(SPEC, SPEC.stats, profile(engaged=("elsewhere",), last_content="elsewhere"), request(), NOW, ALL)
    assert at(out, "co_engagement") == at(out, "near_recent") == at(out, "item_is_last") == 0
    assert math.isnan(at(out, "order_after_last"))
    assert at(out, "engaged_items") == 1  # the user block counts what the profile holds


def test_engaged_content_that_is_not_repeatable_is_excluded() -> None:
    assert excluded(SPEC, profile()) == frozenset({2})  # b1; a1 is repeatable
    assert excluded(make_spec((False,) * 4), profile()) == frozenset({0, 2})
    assert excluded(SPEC, None) == frozenset()


def test_session_features_depend_on_the_gap_to_now() -> None:
    in_session = rows(SPEC, SPEC.stats, profile(), request(), NOW, ALL)
    later = rows(SPEC, SPEC.stats, profile(), request(), NOW + timedelta(hours=2), ALL)
    assert (at(in_session, "in_session"), at(in_session, "session_events")) == (1, 4)
    assert (at(later, "in_session"), at(later, "session_events")) == (0, 0)


def test_unknown_context_values_get_code_zero() -> None:
    odd = Request(user_id="u", placement="nowhere", context=Context(region="mars", device="watch", channel="fax"))
    out = rows(SPEC, SPEC.stats, None, odd, NOW, ALL)
    assert (at(out, "region"), at(out, "device"), at(out, "channel"), at(out, "placement")) == (0, 0, 0, 0)


def test_time_of_day_comes_from_client_time_else_now() -> None:
    local = datetime(2026, 3, 7, 21, 30, tzinfo=timezone(timedelta(hours=-5)))  # a Saturday
    out = rows(SPEC, SPEC.stats, None, request(client_time=local), NOW, ALL)
    assert (at(out, "hour"), at(out, "day_of_week")) == (21, 5)
    out = rows(SPEC, SPEC.stats, None, request(), NOW, ALL)
    assert (at(out, "hour"), at(out, "day_of_week")) == (12, 0)


def test_naive_datetimes_are_taken_as_utc() -> None:
    aware = rows(SPEC, SPEC.stats, profile(), request(), NOW, ALL)
    naive = rows(SPEC, SPEC.stats, profile(), request(), NOW.replace(tzinfo=None), ALL)
    np.testing.assert_array_equal(aware, naive)


def test_cart_features() -> None:
    cart = Cart(item_count=2, value=40.0, updated_at=NOW - timedelta(hours=3))
    out = rows(SPEC, SPEC.stats, None, Request(user_id="u", placement="p1", cart=cart), NOW, ALL)
    assert (at(out, "cart_items"), at(out, "cart_value"), at(out, "cart_age_hours")) == (2, 40, 3)
    empty = rows(SPEC, SPEC.stats, None, Request(user_id="u", placement="p1"), NOW, ALL)
    assert math.isnan(at(empty, "cart_age_hours"))


def served(user: Profile | None, req: Request, now: datetime, candidates: np.ndarray) -> np.ndarray:
    """What the service scores for this decision, as an array."""
    block = item_columns(SPEC, SPEC.stats, ALL)
    return np.frombuffer(row_buffer(SPEC, user, req, now, candidates, block)).reshape(candidates.size, -1)


def test_the_serving_cache_gives_the_rows_of_a_fresh_computation() -> None:
    user, candidates = profile(), np.array([0, 1, 3])
    first = served(user, request(), NOW, candidates)
    assert view(SPEC, user).tail[0][0] is candidates  # kept for this very array
    later = NOW + timedelta(hours=30)
    again = served(user, request(), later, candidates)
    np.testing.assert_array_equal(first, rows(SPEC, SPEC.stats, profile(), request(), NOW, candidates))
    np.testing.assert_array_equal(again, rows(SPEC, SPEC.stats, profile(), request(), later, candidates))
    other = served(user, request(), NOW, np.array([2]))  # another array: recomputed
    np.testing.assert_array_equal(other, rows(SPEC, SPEC.stats, profile(), request(), NOW, np.array([2])))
    for _ in range(2):  # without a profile: kept per candidates array
        cold = served(None, request(), later, candidates)
        np.testing.assert_array_equal(cold, rows(SPEC, SPEC.stats, None, request(), later, candidates))


@pytest.mark.parametrize("bytes_up_to", [0, 64], ids=["numpy-assembly", "bytes-join"])
def test_both_ways_of_assembling_the_served_rows_give_trainings_rows(
    bytes_up_to: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many candidates are assembled with numpy, few joined as bytes: the same bits either way."""
    monkeypatch.setattr(features, "BYTES_UP_TO", bytes_up_to)
    monkeypatch.setattr(features, "_COLD_TAILS", {})  # nothing kept under the other threshold
    later = NOW + timedelta(hours=5)
    for user in (profile(), None):
        for moment in (NOW, later, NOW):  # the second NOW reuses what the first kept
            expected = rows(SPEC, SPEC.stats, user, request(), moment, ALL)
            assert served(user, request(), moment, ALL).tobytes() == expected.tobytes()


def test_a_profile_is_read_in_each_specs_terms() -> None:
    user = profile()
    first = rows(SPEC, SPEC.stats, user, request(), NOW, ALL)
    other = make_spec((True,) * 4)  # another spec: its own view of the same profile
    rows(other, other.stats, user, request(), NOW, ALL)
    np.testing.assert_array_equal(rows(SPEC, SPEC.stats, user, request(), NOW, ALL), first)


_MOMENTS = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31), timezones=st.just(UTC))
_COUNTS = st.integers(0, 10**12)
_CONTENT = st.sampled_from([*ITEMS, "z", "elsewhere", ""])


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(_COUNTS, min_size=7, max_size=7),
    monetary=st.floats(0, 1.7e308, allow_nan=False),
    moments=st.lists(_MOMENTS, min_size=5, max_size=5),
    clicks=st.dictionaries(_CONTENT, _COUNTS, max_size=5),
    engaged=st.lists(_CONTENT, max_size=8, unique=True),
    cart_value=st.floats(0, 1.7e308, allow_nan=False),
    cart_items=st.integers(0, 100_000),
    known_user=st.booleans(),
    candidates=st.lists(st.integers(0, 3), min_size=1, max_size=4, unique=True),
)
def test_rows_hold_no_infinity_and_the_serving_block_gives_the_same_rows(
    counts: list[int],
    monetary: float,
    moments: list[datetime],
    clicks: dict[str, int],
    engaged: list[str],
    cart_value: float,
    cart_items: int,
    known_user: bool,
    candidates: list[int],
) -> None:
    """The ranker does not look for ±inf per request (decision/tiers/model/ranker.py): this is why it
    need not. Requests within validation.py's limits, profiles with any finite money and times
    (what profiles.py loads) and counts up to 10^12; larger inputs are refused, not made infinite.
    The service gathers the item block it computed once for the spec (`item_block`); training
    computes it per decision: the same rows."""
    first, last, purchase, updated, now = moments
    user = profile(
        events=counts[0],
        sessions=counts[1],
        session_events=counts[2],
        views=counts[3],
        clicks=counts[4],
        carts=counts[5],
        purchases=counts[6],
        monetary=monetary,
        first_seen=first,
        last_seen=last,
        last_purchase=purchase,
        content_clicks=clicks,
        category_events=clicks,
        category_last={k: first.timestamp() for k in clicks},
        engaged=tuple(engaged),
        last_content=engaged[-1] if engaged else "",
    )
    cart = Cart(item_count=cart_items, value=cart_value, updated_at=updated)
    req = Request(user_id="u1", placement="p1", context=Context(client_time=now), cart=cart)
    chosen = np.array(candidates)
    trained = rows(SPEC, SPEC.stats, user if known_user else None, req, now, chosen)
    assert not np.isinf(trained).any(), dict(zip(FEATURE_NAMES, trained[0].tolist(), strict=True))
    block = item_columns(SPEC, SPEC.stats, ALL)
    gathered = rows(SPEC, SPEC.stats, user if known_user else None, req, now, chosen, block)
    np.testing.assert_array_equal(gathered, trained)  # NaN where both have NaN
    as_served = served(user if known_user else None, req, now, chosen)
    assert as_served.tobytes() == trained.tobytes()  # bit for bit, NaN included
