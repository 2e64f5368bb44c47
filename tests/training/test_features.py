"""Point-in-time correctness and training/serving parity of the candidate rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from decision.domain import Cart, Context, Request
from decision.sources.candidates import stage_order, take
from decision.sources.catalog import Catalog
from decision.sources.feature_spec import FeatureSpec
from decision.sources.features import FEATURE_NAMES, SESSION_GAP_SECONDS, excluded, item_columns, rows
from decision.sources.profiles import ProfileStore, write_snapshot
from training.features import Dataset, Replay, build
from training.io import Inputs
from training.spec import learn


def replay(events: pd.DataFrame, catalog: Catalog, sample_before: datetime | None = None, **kw: object) -> Replay:
    return build(events, catalog, learn(events, catalog), sample_before, **kw)  # type: ignore[arg-type]


def decision_of(dataset: Dataset, user: str, when: pd.Timestamp) -> int:
    hit = np.flatnonzero((dataset.meta["user_id"] == user) & (dataset.meta["timestamp"] == when))
    assert len(hit) == 1
    return int(hit[0])


def rows_of(dataset: Dataset, decision: int) -> np.ndarray:
    return dataset.X[dataset.starts[decision] : dataset.starts[decision + 1]]


def with_events(events: pd.DataFrame, *added: dict[str, object]) -> pd.DataFrame:
    extra = pd.DataFrame(list(added)).astype({"timestamp": events["timestamp"].dtype})
    out = pd.concat([events, extra], ignore_index=True)
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
    spec = learn(events, inputs.catalog)
    before = build(events, inputs.catalog, spec).dataset
    base = {"user_id": user, "region": "DE", "device": "mobile", "channel": "web"}
    planted = with_events(
        events,
        {**base, "timestamp": t, "event_type": "purchase", "value": 1e6},  # same instant
        {**base, "timestamp": t + timedelta(seconds=1), "event_type": "purchase", "value": 1e6},
        {**base, "timestamp": t + timedelta(seconds=2), "event_type": "click", "content_id": "not-in-catalog"},
    )
    after = build(planted, inputs.catalog, learn(events, inputs.catalog)).dataset
    np.testing.assert_array_equal(
        rows_of(after, decision_of(after, user, t)), rows_of(before, decision_of(before, user, t))
    )
    monetary = FEATURE_NAMES.index("monetary")
    # the plant is real: the user's last decision does see it
    assert rows_of(after, decision_of(after, user, later))[0, monetary] >= 2e6
    assert rows_of(before, decision_of(before, user, later))[0, monetary] < 1e6


def test_each_row_sees_only_strictly_earlier_events(inputs: Inputs) -> None:
    dataset = replay(inputs.events, inputs.catalog).dataset
    events = inputs.events.set_index("user_id")
    ix = FEATURE_NAMES.index("events")
    for i in range(0, len(dataset), max(1, len(dataset) // 50)):
        user, t = dataset.meta["user_id"].iloc[i], dataset.meta["timestamp"].iloc[i]
        assert rows_of(dataset, i)[0, ix] == int((events.loc[[user], "timestamp"] < t).sum())


def test_item_popularity_counts_only_earlier_clicks_of_anyone(inputs: Inputs) -> None:
    """Checked against pandas on the raw log: the item's clicks before t over all catalog clicks before t."""
    result = replay(inputs.events, inputs.catalog)
    dataset, items = result.dataset, result.spec.items
    clicks = inputs.events[(inputs.events["event_type"] == "click") & inputs.events["content_id"].isin(items)]
    popularity = FEATURE_NAMES.index("item_popularity")
    for i in range(0, len(dataset), max(1, len(dataset) // 40)):
        t = dataset.meta["timestamp"].iloc[i]
        earlier = clicks[clicks["timestamp"] < t]
        for row, item in zip(
            rows_of(dataset, i), dataset.items[dataset.starts[i] : dataset.starts[i + 1]], strict=True
        ):
            expected = (earlier["content_id"] == items[item]).sum() / len(earlier) if len(earlier) else 0.0
            assert row[popularity] == pytest.approx(expected)


def test_training_and_serving_paths_give_the_same_rows(inputs: Inputs, tmp_path: Path) -> None:
    """Training path: a decision's rows built by the replay. Serving path: the spec as saved
    with the model, the snapshot file read by ProfileStore, a Request as a caller sends it,
    the candidate stage and the item block the model tier keeps."""
    user = abandoned_cart_user(inputs.events)
    # the user's last event ends the log, and the decision comes seven minutes later: in
    # session, and after everyone's history (the item statistics the spec holds)
    end = inputs.events["timestamp"].max().to_pydatetime()
    last = {"user_id": user, "timestamp": end + timedelta(minutes=1), "event_type": "view", "category": "books"}
    events = with_events(inputs.events, {**last, "region": "JP", "device": "tablet", "channel": "app"})
    now = end + timedelta(minutes=8)
    context = {"region": "JP", "device": "tablet", "channel": "app"}
    eligible = sorted(inputs.catalog.eligible("cart_page", "JP", now))
    probe = {"user_id": user, "timestamp": now, "event_type": "click", "content_id": eligible[0]}
    probed = with_events(events, {**probe, "placement": "cart_page", **context})
    spec = learn(events, inputs.catalog)
    trained = build(probed, inputs.catalog, spec).dataset
    result = build(events, inputs.catalog, learn(events, inputs.catalog))
    snapshot, spec_file = tmp_path / "profiles.jsonl", tmp_path / "spec.json"
    write_snapshot(snapshot, result.profiles, result.as_of, result.spec.layout)
    result.spec.save(spec_file)

    served_spec = FeatureSpec.load(spec_file)
    profile = ProfileStore.load(snapshot).get(user)
    request = Request(
        user_id=user,
        placement="cart_page",
        context=Context(client_time=now, **context),
        cart=expected_cart(events[events["user_id"] == user]),
        consent=True,
    )
    stage = take(stage_order(served_spec, served_spec.stats, eligible), excluded(served_spec, profile), 100)
    block = item_columns(served_spec, served_spec.stats, np.arange(len(served_spec.items)))
    served = rows(served_spec, served_spec.stats, profile, request, now, np.array(stage), block)
    np.testing.assert_array_equal(rows_of(trained, decision_of(trained, user, pd.Timestamp(now))), served)
    assert served[0, FEATURE_NAMES.index("cart_items")] > 0
    assert served[0, FEATURE_NAMES.index("in_session")] == 1


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


def test_new_users_first_decision_has_the_cold_start_rows(inputs: Inputs) -> None:
    result = replay(inputs.events, inputs.catalog)
    dataset = result.dataset
    first = np.flatnonzero(~dataset.meta["returning"].to_numpy())
    assert len(first) > 0
    i = int(first[0])
    meta = dataset.meta.iloc[i]
    request = Request(
        user_id=meta["user_id"],
        placement=meta["placement"],
        context=Context(region=meta["region"], device=meta["device"]),
    )
    user_block = slice(0, FEATURE_NAMES.index("hour"))
    cold = rows(result.spec, result.spec.stats, None, request, meta["timestamp"].to_pydatetime(), np.array([0]))
    np.testing.assert_array_equal(
        rows_of(dataset, i)[:, user_block], np.repeat(cold[:, user_block], dataset.sizes[i], 0)
    )


def test_labels_candidates_and_time_order(inputs: Inputs) -> None:
    result = replay(inputs.events, inputs.catalog)
    dataset = result.dataset
    assert len(dataset) == int((inputs.events["event_type"] == "click").sum())
    assert (dataset.label_row >= 0).all()  # the generator obeys the catalog, and its content is repeatable
    assert (dataset.items[dataset.starts[:-1] + dataset.label_row] == dataset.label).all()
    assert len(result.profiles) == inputs.events["user_id"].nunique()
    assert dataset.meta["timestamp"].is_monotonic_increasing


def test_content_that_may_not_be_repeated_is_never_a_candidate_again(inputs: Inputs, tmp_path: Path) -> None:
    catalog = Catalog.load(write_catalog(tmp_path, inputs.catalog, repeatable=False))
    dataset = replay(inputs.events, catalog).dataset
    engaged = inputs.events[inputs.events["event_type"].isin(["click", "add_to_cart", "purchase"])]
    first = engaged.groupby(["user_id", "content_id"])["timestamp"].min()
    seen = 0
    for i in range(len(dataset)):
        user, t = dataset.meta["user_id"].iloc[i], dataset.meta["timestamp"].iloc[i]
        for item in dataset.items[dataset.starts[i] : dataset.starts[i + 1]]:
            key = (user, catalog.content_ids[item])
            seen += key in first.index
            assert not (key in first.index and first[key] < t), key
    assert seen > 0  # candidates the user engaged with later, so the check has teeth
    assert (dataset.label_row == -1).any()  # repeat clicks: the label was not a candidate


def write_catalog(tmp_path: Path, catalog: Catalog, repeatable: bool) -> Path:
    import json

    doc = json.loads(catalog.to_json())
    for item in doc["items"]:
        item["repeatable"] = repeatable
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(doc))
    return path


def test_training_decisions_of_a_large_stage_rank_the_label_against_sampled_candidates(inputs: Inputs) -> None:
    times = inputs.events.loc[inputs.events["event_type"] == "click", "timestamp"].sort_values()
    cut = times.iloc[len(times) // 2].to_pydatetime()
    result = replay(inputs.events, inputs.catalog, cut, negatives=3)
    dataset = result.dataset
    early = dataset.meta["timestamp"] < cut
    assert (dataset.sizes[early.to_numpy()] <= 4).all()
    assert (dataset.label_row[early.to_numpy()] == 0).all()  # the label first, then the sampled others
    assert (dataset.sizes[~early.to_numpy()] > 4).any()  # later decisions rank the whole stage


@pytest.mark.parametrize("n", [0, 1])
def test_tiny_logs(inputs: Inputs, n: int) -> None:
    events = inputs.events[inputs.events["event_type"] == "view"].head(n)
    if n == 0:
        events = inputs.events.head(1)
    result = replay(events, inputs.catalog)
    assert result.dataset.X.shape[1] == len(FEATURE_NAMES)
    assert len(result.profiles) == 1


def test_sessions_split_at_the_session_gap_whatever_the_timestamp_unit(inputs: Inputs) -> None:
    """The replay's seconds must be real seconds: counted in microseconds/1e9, every gap
    looked 1,000 times shorter and a user's 16 sessions collapsed into one."""
    profiles = replay(inputs.events, inputs.catalog).profiles
    stamps = inputs.events.groupby("user_id")["timestamp"]
    expected = stamps.apply(lambda t: 1 + int((t.diff() > pd.Timedelta(seconds=SESSION_GAP_SECONDS)).sum()))
    got = {p.user_id: p.sessions for p in profiles}
    assert max(got.values()) > 1
    assert got == {str(user): int(n) for user, n in expected.items()}
