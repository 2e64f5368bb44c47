"""Live profiles: online equals offline, bounded memory, consent honoured, forgotten for good."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from decision.domain import Context, Event, Request
from decision.sources.features import epoch, vector
from decision.sources.forgotten import ForgottenFile, read_keys
from decision.sources.live import LiveProfiles, LocalProfiles, fold
from decision.sources.profiles import ProfileStore
from tests.fakes import NoSnapshot
from training.history import UserHistory

START = datetime(2026, 3, 1, 8, tzinfo=UTC)
KINDS = ("view", "click", "add_to_cart", "remove_from_cart", "purchase")

events_strategy = st.lists(
    st.tuples(
        st.integers(0, 4 * 3600),  # seconds since the previous event: sessions split at 30 min
        st.sampled_from(KINDS),
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from(["", "shoes", "books"]),
        st.floats(0, 500, allow_nan=False),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(events_strategy, st.integers(0, 3 * 3600))
def test_replaying_events_live_gives_trainings_point_in_time_rows(
    steps: list[tuple[int, str, str, str, float]], gap_after: int
) -> None:
    """At every instant, the row built from the live profile equals training's replay."""
    history = UserHistory("k1")
    live = None
    when = START
    request = Request("u1", "home_banner", context=Context(region="DE", device="mobile"), consent=True)
    for seconds, kind, content, category, value in steps:
        when = when + timedelta(seconds=seconds)
        event = Event("u1", kind, when, content, category, value if kind in ("add_to_cart", "purchase") else 0.0)
        history.add(when, epoch(when), kind, content, category, event.value)
        live = fold(live, "k1", event)
        later = when + timedelta(seconds=gap_after)
        offline = history.profile(as_of=later)
        assert np.array_equal(vector(live, request, later), vector(offline, request, later), equal_nan=True)


def test_a_profile_store_is_bounded_in_size_and_time() -> None:
    clock = [0.0]
    store = LocalProfiles(max_users=3, ttl_seconds=100.0, clock=lambda: clock[0])
    profile = fold(None, "k", Event("u", "view", START))
    evicted = REGISTRY.get_sample_value("decision_profile_evictions_total", {"reason": "size"}) or 0.0
    for key in ("a", "b", "c", "d"):
        store.put(key, profile)
    assert store.get("a") is None  # the least recently updated went first
    assert REGISTRY.get_sample_value("decision_profile_evictions_total", {"reason": "size"}) == evicted + 1
    clock[0] = 101.0
    assert store.get("b") is None  # expired
    assert len(store) == 2


def live_profiles(tmp_path: Path, snapshot: ProfileStore | None = None) -> LiveProfiles:
    source = NoSnapshot()
    source.current = snapshot
    return LiveProfiles(source, lambda user: f"key-{user}", LocalProfiles(100, 3600.0), ForgottenFile(tmp_path / "f"))


def test_events_without_consent_change_nothing(tmp_path: Path) -> None:
    profiles = live_profiles(tmp_path)
    recorded = profiles.record([Event("u1", "click", START, "a"), Event("u2", "click", START, "a", consent=True)])
    assert (recorded.accepted, recorded.without_consent) == (1, 1)
    assert profiles.get("u1") is None
    found = profiles.get("u2")
    assert found is not None
    assert (found.user_id, found.clicks, dict(found.content_clicks)) == ("key-u2", 1, {"a": 1})


def test_live_events_build_on_the_snapshot_profile(tmp_path: Path) -> None:
    base = fold(None, "key-u1", Event("u1", "purchase", START, value=20.0, consent=True))
    profiles = live_profiles(tmp_path, ProfileStore([base], as_of=START, feature_set_version="x"))
    profiles.record([Event("u1", "purchase", START + timedelta(hours=1), value=30.0, consent=True)])
    found = profiles.get("u1")
    assert found is not None
    assert (found.purchases, found.monetary, found.sessions) == (2, 50.0, 2)


def test_a_forgotten_user_is_never_served_again_and_the_key_is_kept_durably(tmp_path: Path) -> None:
    base = fold(None, "key-u1", Event("u1", "view", START, consent=True))
    profiles = live_profiles(tmp_path, ProfileStore([base], as_of=START, feature_set_version="x"))
    profiles.record([Event("u1", "click", START, "a", consent=True)])
    assert profiles.forget("u1") is True
    assert profiles.get("u1") is None  # neither the live profile nor the snapshot's
    profiles.record([Event("u1", "click", START, "a", consent=True)])
    assert profiles.get("u1") is None
    assert read_keys(tmp_path / "f") == {"key-u1"}  # user keys only, never the id
    assert profiles.forget("nobody") is False
