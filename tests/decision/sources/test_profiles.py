"""The profile snapshot: round trip and clear errors for missing or corrupt files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from decision.domain import Request
from decision.sources.features import ENGAGED_LIMIT, Profile, rows
from decision.sources.profiles import ProfileStore, ProfileStoreError, write_snapshot
from tests.decision.sources.test_features import SPEC

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
        last_content="a1",
        content_clicks={"a1": 2},
        category_views={"alpha": 3},
        category_events={"alpha": 4},
        category_last={"alpha": NOW.timestamp() - 3600.5},
        engaged=("z", "a1"),
    )


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    path = tmp_path / "profiles.jsonl"
    write_snapshot(path, [sample("a", True), sample("b", False)], NOW, SPEC.layout)
    return path


def test_round_trip_gives_equal_profiles_and_rows(snapshot: Path) -> None:
    store = ProfileStore.load(snapshot)
    assert len(store) == 2
    assert store.spec_layout == SPEC.layout
    assert store.get("a") == sample("a", True)
    assert store.get("missing") is None
    req = Request(user_id="a", placement="p1")
    candidates = np.arange(len(SPEC.items))
    np.testing.assert_array_equal(
        rows(SPEC, SPEC.stats, store.get("a"), req, NOW, candidates),
        rows(SPEC, SPEC.stats, sample("a", True), req, NOW, candidates),
    )


def test_an_older_format_is_refused_with_what_to_do(snapshot: Path) -> None:
    snapshot.write_text(snapshot.read_text().replace('"format_version": 3', '"format_version": 2', 1))
    with pytest.raises(ProfileStoreError, match="format_version 2 is not 3; rewrite the snapshot"):
        ProfileStore.load(snapshot)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("category_last", '{"alpha":"noon"}', "expected epoch seconds"),
        ("category_last", '{"alpha":1e999}', "expected epoch seconds"),
        ("engaged", '"a1"', "expected a list of at most"),
        ("engaged", "[" + ",".join(['"x"'] * (ENGAGED_LIMIT + 1)) + "]", "expected a list of at most"),
        ("category_events", '{"alpha":-1}', "expected a non-negative integer"),
    ],
)
def test_new_fields_are_checked(snapshot: Path, field: str, value: str, reason: str) -> None:
    text = snapshot.read_text()
    start = text.index(f'"{field}":') + len(f'"{field}":')
    end = text.index("]" if text[start] == "[" else "}", start) + 1
    snapshot.write_text(text[:start] + value + text[end:])
    with pytest.raises(ProfileStoreError, match=f"line 2: bad value \\({reason}"):
        ProfileStore.load(snapshot)


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
