"""Behaviour as of an instant: only events strictly before it, features from the Profile."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from decision.sources.segment_features import BEHAVIOUR_NAMES, behaviour_values
from training.io import Inputs
from training.segments.behaviour import behaviour, profiles_as_of


def with_events(events: pd.DataFrame, *rows: dict[str, object]) -> pd.DataFrame:
    added = pd.DataFrame(list(rows)).astype({"timestamp": events["timestamp"].dtype})
    out = pd.concat([events, added], ignore_index=True)
    return out.sort_values(["user_id", "timestamp"], kind="stable").reset_index(drop=True)


def test_events_at_or_after_the_instant_are_not_seen(inputs: Inputs) -> None:
    events = inputs.events
    user = str(events["user_id"].iloc[0])
    cut = events["timestamp"].iloc[len(events) // 2]
    base = {"user_id": user, "event_type": "purchase", "value": 1e6}
    planted = with_events(events, {**base, "timestamp": cut}, {**base, "timestamp": cut + timedelta(days=1)})
    before = behaviour(events, cut.to_pydatetime())
    after = behaviour(planted, cut.to_pydatetime())
    pd.testing.assert_frame_equal(after.frame, before.frame)
    later = behaviour(planted, (cut + timedelta(days=2)).to_pydatetime())
    assert later.frame["monetary"].to_numpy()[later.frame.index.get_loc(user)] >= 2e6  # the plant is real


def test_the_frame_is_what_the_service_computes_from_each_profile(inputs: Inputs) -> None:
    seen = behaviour(inputs.events)
    assert list(seen.frame.columns) == list(BEHAVIOUR_NAMES)
    for profile in seen.profiles[:: max(1, len(seen) // 20)]:
        row = seen.frame.index.get_loc(profile.user_id)
        assert seen.frame.to_numpy()[row].tolist() == behaviour_values(profile, seen.as_of)


def test_default_instant_is_just_after_the_last_event(inputs: Inputs) -> None:
    seen = behaviour(inputs.events)
    assert seen.as_of == inputs.events["timestamp"].max().to_pydatetime() + timedelta(seconds=1)
    assert len(seen) == inputs.events["user_id"].nunique()
    assert seen.frame["recency_days"].min() == pytest.approx(1 / 86400)


def test_sessions_split_at_the_session_gap(inputs: Inputs) -> None:
    profiles = profiles_as_of(inputs.events, inputs.events["timestamp"].max().to_pydatetime() + timedelta(seconds=1))
    gaps = inputs.events.groupby("user_id")["timestamp"].apply(
        lambda t: 1 + int((t.diff() > timedelta(minutes=30)).sum())
    )
    assert {p.user_id: p.sessions for p in profiles} == {str(u): int(n) for u, n in gaps.items()}


def test_category_views_are_counted_per_user(inputs: Inputs) -> None:
    seen = behaviour(inputs.events)
    views = inputs.events[inputs.events["event_type"] == "view"]
    assert seen.category_views.to_numpy().sum() == len(views)


def test_an_instant_before_every_event_is_refused(inputs: Inputs) -> None:
    first = inputs.events["timestamp"].min().to_pydatetime()
    with pytest.raises(ValueError, match=r"no events before .*; pass a later --as-of"):
        behaviour(inputs.events, first)
