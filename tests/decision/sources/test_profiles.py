"""The profile snapshot: round trip and clear errors for missing or corrupt files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from decision.domain import Request
from decision.sources.features import Profile, vector
from decision.sources.profiles import ProfileStore, ProfileStoreError, write_snapshot

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def sample(user_id: str, purchase: bool) -> Profile:
    return Profile(
        user_id=user_id,
        as_of=NOW,
        first_seen=NOW - timedelta(days=3),
        last_seen=NOW - timedelta(hours=1),
        session_start=NOW - timedelta(hours=1),
        last_purchase=NOW - timedelta(days=1) if purchase else None,
        events=5,
        sessions=2,
        session_events=1,
        views=3,
        clicks=2,
        carts=1,
        purchases=int(purchase),
        monetary=12.345678 if purchase else 0.0,
        last_content="toys-1",
        content_clicks={"toys-1": 2},
        category_views={"toys": 3},
    )


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    path = tmp_path / "profiles.jsonl"
    write_snapshot(path, [sample("a", True), sample("b", False)], NOW)
    return path


def test_round_trip_gives_equal_profiles_and_vectors(snapshot: Path) -> None:
    store = ProfileStore.load(snapshot)
    assert len(store) == 2
    assert store.get("a") == sample("a", True)
    assert store.get("missing") is None
    req = Request(user_id="a", placement="home_banner")
    np.testing.assert_array_equal(vector(store.get("a"), req, NOW), vector(sample("a", True), req, NOW))


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileStoreError, match=r"nope\.jsonl: cannot read profile snapshot"):
        ProfileStore.load(tmp_path / "nope.jsonl")


def test_not_a_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("hello\n")
    with pytest.raises(ProfileStoreError, match="line 1: not a profile snapshot header"):
        ProfileStore.load(path)


def test_corrupt_line_names_the_line(snapshot: Path) -> None:
    lines = snapshot.read_text().splitlines()
    lines[2] = lines[2][:40]
    snapshot.write_text("\n".join(lines) + "\n")
    with pytest.raises(ProfileStoreError, match="line 3: not valid JSON"):
        ProfileStore.load(snapshot)


def test_wrong_type_names_the_line(snapshot: Path) -> None:
    text = snapshot.read_text().replace('"events":5', '"events":"five"', 1)
    snapshot.write_text(text)
    with pytest.raises(ProfileStoreError, match="line 2: bad value"):
        ProfileStore.load(snapshot)


@pytest.mark.parametrize("money", ["Infinity", "NaN", "-1", '"12"', "true", "1" + "0" * 400])
def test_money_must_be_a_finite_non_negative_number(snapshot: Path, money: str) -> None:
    text = snapshot.read_text()
    start = text.index('"monetary":') + len('"monetary":')
    snapshot.write_text(text[:start] + money + text[text.index(",", start) :])
    with pytest.raises(ProfileStoreError, match=r"line 2: bad value \(expected a finite non-negative number"):
        ProfileStore.load(snapshot)


def test_missing_field_is_named(snapshot: Path) -> None:
    snapshot.write_text(snapshot.read_text().replace('"monetary"', '"money"', 1))
    with pytest.raises(ProfileStoreError, match="line 2: missing field 'monetary'"):
        ProfileStore.load(snapshot)


def test_truncated_file_is_detected(snapshot: Path) -> None:
    lines = snapshot.read_text().splitlines()
    snapshot.write_text("\n".join(lines[:2]) + "\n")
    with pytest.raises(ProfileStoreError, match="promises 2 users, file has 1"):
        ProfileStore.load(snapshot)
