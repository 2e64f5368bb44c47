"""The behavioural features segments use, computed from a Profile as the service holds it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from decision.sources.features import Profile
from decision.sources.segment_features import BEHAVIOUR_NAMES, RFM_FEATURES, behaviour_values

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def profile(**overrides: object) -> Profile:
    fields: dict[str, object] = {
        "user_id": "u1",
        "as_of": NOW,
        "first_seen": NOW - timedelta(days=10),
        "last_seen": NOW - timedelta(hours=36),
        "session_start": NOW - timedelta(hours=37),
        "events": 40,
        "sessions": 5,
        "views": 20,
        "clicks": 5,
        "carts": 4,
        "purchases": 2,
        "monetary": 90.0,
        "category_views": {"toys": 15, "books": 5},
    }
    return Profile(**{**fields, **overrides})  # type: ignore[arg-type]


def test_every_feature_of_a_known_profile() -> None:
    values = dict(zip(BEHAVIOUR_NAMES, behaviour_values(profile(), NOW), strict=True))
    assert values == pytest.approx(
        {
            "recency_days": 1.5,
            "tenure_days": 10.0,
            "sessions": 5.0,
            "events": 40.0,
            "purchases": 2.0,
            "monetary": 90.0,
            "avg_order_value": 45.0,
            "events_per_session": 8.0,
            "click_rate": 0.25,
            "cart_rate": 0.2,
            "purchase_rate": 0.4,
            "top_category_share": 0.75,
        }
    )


def test_ratios_without_a_denominator_are_zero_not_nan() -> None:
    empty = profile(views=0, clicks=0, carts=0, purchases=0, monetary=0.0, category_views={})
    values = dict(zip(BEHAVIOUR_NAMES, behaviour_values(empty, NOW), strict=True))
    assert [values[n] for n in ("avg_order_value", "click_rate", "cart_rate", "top_category_share")] == [0.0] * 4


def test_a_profile_stamped_after_now_counts_as_just_now() -> None:
    ahead = profile(first_seen=NOW + timedelta(minutes=5), last_seen=NOW + timedelta(minutes=5))
    assert behaviour_values(ahead, NOW, ("recency_days", "tenure_days")) == [0.0, 0.0]


def test_a_naive_now_is_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert behaviour_values(profile(), naive) == behaviour_values(profile(), NOW)


def test_rfm_reads_recency_sessions_and_money() -> None:
    assert behaviour_values(profile(), NOW, RFM_FEATURES) == pytest.approx([1.5, 5.0, 90.0])
