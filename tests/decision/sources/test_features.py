"""The shared feature definitions: shape, cold start, codes, clocks, sessions."""

from __future__ import annotations

import ctypes
import math
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decision.domain import Cart, Context, Request
from decision.sources.features import (
    CATEGORICAL_FEATURES,
    FEATURE_NAMES,
    FEATURE_SET_VERSION,
    Profile,
    feature_set_version,
    vector,
    write_row,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday


def at(v: np.ndarray, name: str) -> float:
    return float(v[FEATURE_NAMES.index(name)])


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
        "last_content": "books-2",
        "content_clicks": {"books-2": 3, "not-in-vocab": 1},
        "category_views": {"books": 6, "": 2},
    }
    fields.update(overrides)
    return Profile(**fields)  # type: ignore[arg-type]


def request(**context: object) -> Request:
    return Request(user_id="u1", placement="cart_page", context=Context(**context))  # type: ignore[arg-type]


def test_names_are_unique_and_version_is_a_short_hash() -> None:
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert set(CATEGORICAL_FEATURES) <= set(FEATURE_NAMES)
    assert len(FEATURE_SET_VERSION) == 12
    int(FEATURE_SET_VERSION, 16)


def test_version_changes_with_any_definition_or_vocabulary() -> None:
    base = feature_set_version((("a", "count of a"),), ("eu", "us"))
    assert feature_set_version((("a", "count of a"),), ("eu", "us")) == base
    assert feature_set_version((("a", "share of a"),), ("eu", "us")) != base
    assert feature_set_version((("b", "count of a"),), ("eu", "us")) != base
    assert feature_set_version((("a", "count of a"),), ("eu", "us", "apac")) != base


def test_vector_is_float64_of_the_declared_width() -> None:
    v = vector(profile(), request(region="DE"), NOW)
    assert v.dtype == np.float64
    assert v.shape == (len(FEATURE_NAMES),)


def test_cold_start_has_no_history_values_and_keeps_context() -> None:
    v = vector(None, request(region="US", device="tablet", channel="email"), NOW)
    assert at(v, "has_history") == 0
    assert at(v, "events") == 0
    assert math.isnan(at(v, "recency_hours"))
    assert math.isnan(at(v, "tenure_days"))
    assert at(v, "aff_books-2") == 0
    assert (at(v, "region"), at(v, "device"), at(v, "channel")) == (2, 3, 3)
    assert at(v, "placement") == 2


def test_user_block_from_profile() -> None:
    v = vector(profile(), request(), NOW)
    assert at(v, "has_history") == 1
    assert at(v, "avg_order_value") == 80.0
    assert at(v, "click_rate") == 0.5
    assert at(v, "recency_hours") == pytest.approx(10 / 60)
    assert at(v, "tenure_days") == pytest.approx(10)
    assert at(v, "days_since_purchase") == pytest.approx(2)
    assert at(v, "aff_books-2") == 0.75
    assert at(v, "aff_other") == 0.25
    assert at(v, "cat_books") == 0.75
    assert at(v, "cat_other") == 0.25
    assert at(v, "last_content") > 0


def test_session_features_depend_on_the_gap_to_now() -> None:
    in_session = vector(profile(), request(), NOW)
    later = vector(profile(), request(), NOW + timedelta(hours=2))
    assert (at(in_session, "in_session"), at(in_session, "session_events")) == (1, 4)
    assert (at(later, "in_session"), at(later, "session_events")) == (0, 0)


def test_unknown_categories_get_code_zero() -> None:
    v = vector(None, Request(user_id="u", placement="nowhere", context=Context(region="mars")), NOW)
    assert (at(v, "region"), at(v, "device"), at(v, "channel"), at(v, "placement")) == (0, 0, 0, 0)


def test_time_of_day_comes_from_client_time_else_now() -> None:
    local = datetime(2026, 3, 7, 21, 30, tzinfo=timezone(timedelta(hours=-5)))  # a Saturday
    v = vector(None, request(client_time=local), NOW)
    assert (at(v, "hour"), at(v, "day_of_week")) == (21, 5)
    v = vector(None, request(), NOW)
    assert (at(v, "hour"), at(v, "day_of_week")) == (12, 0)


def test_naive_datetimes_are_taken_as_utc() -> None:
    aware = vector(profile(), request(), NOW)
    naive = vector(profile(), request(), NOW.replace(tzinfo=None))
    np.testing.assert_array_equal(aware, naive)


def test_cart_features() -> None:
    cart = Cart(item_count=2, value=40.0, updated_at=NOW - timedelta(hours=3))
    v = vector(None, Request(user_id="u", placement="cart_page", cart=cart), NOW)
    assert (at(v, "cart_items"), at(v, "cart_value"), at(v, "cart_age_hours")) == (2, 40, 3)
    empty = vector(None, Request(user_id="u", placement="cart_page"), NOW)
    assert math.isnan(at(empty, "cart_age_hours"))


def test_vector_returns_a_fresh_array_each_call() -> None:
    p = profile()
    first = vector(p, request(), NOW)
    first[:] = -1
    assert at(vector(p, request(), NOW), "has_history") == 1


_MOMENTS = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31), timezones=st.just(UTC))
_COUNTS = st.integers(0, 10**12)


@settings(max_examples=300, deadline=None)
@given(
    counts=st.lists(_COUNTS, min_size=7, max_size=7),
    monetary=st.floats(0, 1.7e308, allow_nan=False),
    moments=st.lists(_MOMENTS, min_size=5, max_size=5),
    clicks=st.dictionaries(st.text(max_size=12), _COUNTS, max_size=5),
    cart_value=st.floats(0, 1.7e308, allow_nan=False),
    cart_items=st.integers(0, 100_000),
    known_user=st.booleans(),
)
def test_rows_hold_no_infinity_and_the_serving_row_equals_vector(
    counts: list[int],
    monetary: float,
    moments: list[datetime],
    clicks: dict[str, int],
    cart_value: float,
    cart_items: int,
    known_user: bool,
) -> None:
    """The ranker does not look for ±inf per request (decision/tiers/model/ranker.py): this is why it
    need not. Requests within validation.py's limits, profiles with any finite money (what
    profiles.py loads) and counts up to 10^12; larger inputs are refused, not made infinite.
    The request path fills the scorer's buffer with `write_row` instead: the same row."""
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
        category_views=clicks,
    )
    cart = Cart(item_count=cart_items, value=cart_value, updated_at=updated)
    req = Request(user_id="u1", placement="cart_page", context=Context(client_time=now), cart=cart)
    v = vector(user if known_user else None, req, now)
    assert not np.isinf(v).any(), dict(zip(FEATURE_NAMES, v.tolist(), strict=True))
    row = (ctypes.c_double * len(FEATURE_NAMES))(*([7.0] * len(FEATURE_NAMES)))  # stale values
    write_row(row, user if known_user else None, req, now)
    np.testing.assert_array_equal(np.array(row[:]), v)  # NaN where v has NaN


def test_write_row_refuses_a_buffer_of_another_width() -> None:
    with pytest.raises(ValueError, match=f"a feature row has {len(FEATURE_NAMES)} values, this buffer 5"):
        write_row((ctypes.c_double * 5)(), None, request(), NOW)
