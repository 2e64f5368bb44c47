"""Point-in-time correctness and training/serving parity of the feature vectors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from decision.domain import Cart, Context, Request
from decision.sources.features import FEATURE_NAMES, SESSION_GAP_SECONDS, vector
from decision.sources.profiles import ProfileStore, write_snapshot
from training.features import Dataset, build, snapshot_time
from training.io import Inputs


def row_of(dataset: Dataset, user: str, when: pd.Timestamp) -> np.ndarray:
    hit = np.flatnonzero((dataset.meta["user_id"] == user) & (dataset.meta["timestamp"] == when))
    assert len(hit) == 1
    return dataset.X[hit[0]]


def with_events(events: pd.DataFrame, *rows: dict[str, object]) -> pd.DataFrame:
    added = pd.DataFrame(list(rows)).astype({"timestamp": events["timestamp"].dtype})
    out = pd.concat([events, added], ignore_index=True)
    return out.sort_values(["user_id", "timestamp"], kind="stable").reset_index(drop=True)


def busy_user(events: pd.DataFrame) -> str:
    clicks = events[events["event_type"] == "click"].groupby("user_id").size()
    return str(clicks.idxmax())


def test_a_planted_future_event_is_seen_by_no_earlier_decision(inputs: Inputs) -> None:
    events = inputs.events
    user = busy_user(events)
    mine = events[(events["user_id"] == user) & (events["event_type"] == "click")]
    t = mine["timestamp"].iloc[len(mine) // 2]
    later = mine["timestamp"].iloc[-1]
    before, _ = build(events, inputs.catalog)
    base = {"user_id": user, "region": "DE", "device": "mobile", "channel": "web"}
    planted = with_events(
        events,
        {**base, "timestamp": t, "event_type": "purchase", "value": 1e6},  # same instant
        {**base, "timestamp": t + timedelta(seconds=1), "event_type": "purchase", "value": 1e6},
        {
            **base,
            "timestamp": t + timedelta(seconds=2),
            "event_type": "click",
            "content_id": "not-in-catalog",
            "category": "books",
        },
    )
    after, _ = build(planted, inputs.catalog)
    np.testing.assert_array_equal(row_of(after, user, t), row_of(before, user, t))
    monetary = FEATURE_NAMES.index("monetary")
    # the plant is real: the user's last decision does see it
    assert row_of(after, user, later)[monetary] >= 2e6
    assert row_of(before, user, later)[monetary] < 1e6


def test_each_row_sees_only_strictly_earlier_events(inputs: Inputs) -> None:
    dataset, _ = build(inputs.events, inputs.catalog)
    events = inputs.events.set_index("user_id")
    ix = FEATURE_NAMES.index("events")
    for i in range(0, len(dataset), max(1, len(dataset) // 50)):
        user, t = dataset.meta["user_id"].iloc[i], dataset.meta["timestamp"].iloc[i]
        assert dataset.X[i, ix] == int((events.loc[[user], "timestamp"] < t).sum())


def test_training_and_serving_paths_give_the_same_vector(inputs: Inputs, tmp_path: Path) -> None:
    """Training path: a decision row built by the batch replay. Serving path: the snapshot
    file read by ProfileStore plus a Request as a caller would send it."""
    events = inputs.events
    user = abandoned_cart_user(events)
    _, profiles = build(events, inputs.catalog)
    path = tmp_path / "profiles.jsonl"
    write_snapshot(path, profiles, snapshot_time(events))
    # seven minutes after the user's last event: still in session, after all of their history
    now = events.loc[events["user_id"] == user, "timestamp"].max().to_pydatetime()
    now += timedelta(minutes=7)
    context = {"region": "JP", "device": "tablet", "channel": "app"}
    probe = {
        "user_id": user,
        "timestamp": now,
        "event_type": "click",
        "content_id": inputs.catalog.content_ids[0],
        "placement": "cart_page",
        **context,
    }
    training_path, _ = build(with_events(events, probe), inputs.catalog)

    request = Request(
        user_id=user,
        placement="cart_page",
        context=Context(client_time=now, **context),
        cart=expected_cart(events[events["user_id"] == user]),
        consent=True,
    )
    served = vector(ProfileStore.load(path).get(user), request, now)
    np.testing.assert_array_equal(row_of(training_path, user, pd.Timestamp(now)), served)
    assert served[FEATURE_NAMES.index("cart_items")] > 0
    assert served[FEATURE_NAMES.index("in_session")] == 1


def abandoned_cart_user(events: pd.DataFrame) -> str:
    """A user whose log ends with items in the cart, so cart features are exercised too."""
    last = events[events["event_type"].isin(["add_to_cart", "purchase"])].groupby("user_id").last()
    users = last.index[last["event_type"] == "add_to_cart"]
    assert len(users) > 0
    return str(users[0])


def expected_cart(mine: pd.DataFrame) -> Cart:
    """The cart a caller would report, computed independently of training.history."""
    purchases = mine.index[mine["event_type"] == "purchase"]
    since = mine.loc[purchases[-1] :] if len(purchases) else mine
    adds = since[since["event_type"] == "add_to_cart"]
    removes = since[since["event_type"] == "remove_from_cart"]
    changes = mine[mine["event_type"].isin(["add_to_cart", "remove_from_cart", "purchase"])]
    return Cart(
        item_count=len(adds) - len(removes),
        value=round(float(adds["value"].sum() - removes["value"].sum()), 6),
        updated_at=changes["timestamp"].iloc[-1].to_pydatetime() if len(changes) else None,
    )


def test_new_users_first_decision_is_the_cold_start_vector(inputs: Inputs) -> None:
    dataset, _ = build(inputs.events, inputs.catalog)
    first = np.flatnonzero(~dataset.meta["returning"].to_numpy())
    assert len(first) > 0
    i = first[0]
    request = Request(
        user_id=dataset.meta["user_id"].iloc[i],
        placement=dataset.meta["placement"].iloc[i],
        context=Context(region=dataset.meta["region"].iloc[i], device=dataset.meta["device"].iloc[i]),
    )
    cold = vector(None, request, dataset.meta["timestamp"].iloc[i].to_pydatetime())
    user_block = slice(0, FEATURE_NAMES.index("hour"))
    np.testing.assert_array_equal(dataset.X[i, user_block], cold[user_block])


def test_labels_and_eligibility(inputs: Inputs) -> None:
    dataset, profiles = build(inputs.events, inputs.catalog)
    assert len(dataset) == int((inputs.events["event_type"] == "click").sum())
    assert dataset.eligible[np.arange(len(dataset)), dataset.y].all()  # the generator obeys the catalog
    assert len(profiles) == inputs.events["user_id"].nunique()
    assert dataset.meta["timestamp"].is_monotonic_increasing


@pytest.mark.parametrize("n", [0, 1])
def test_tiny_logs(inputs: Inputs, n: int) -> None:
    events = inputs.events[inputs.events["event_type"] == "view"].head(n)
    if n == 0:
        events = inputs.events.head(1)
    dataset, profiles = build(events, inputs.catalog)
    assert dataset.X.shape[1] == len(FEATURE_NAMES)
    assert len(profiles) == 1


def test_sessions_split_at_the_session_gap_whatever_the_timestamp_unit(inputs: Inputs) -> None:
    """The replay's seconds must be real seconds: counted in microseconds/1e9, every gap
    looked 1,000 times shorter and a user's 16 sessions collapsed into one."""
    _, profiles = build(inputs.events, inputs.catalog)
    stamps = inputs.events.groupby("user_id")["timestamp"]
    expected = stamps.apply(lambda t: 1 + int((t.diff() > pd.Timedelta(seconds=SESSION_GAP_SECONDS)).sum()))
    got = {p.user_id: p.sessions for p in profiles}
    assert max(got.values()) > 1
    assert got == {str(user): int(n) for user, n in expected.items()}
