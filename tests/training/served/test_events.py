"""Served traffic as training events: views, clicks and purchases of consented decisions only."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.training.served.logs import T0, at, decision, outcome, write_lines
from training.schema import EventLogError
from training.served.events import EVENT_COLUMNS, events_from_items, served_events
from training.served.join import JoinOptions, join_files
from training.served.tables import items_path, write_table


def joined_files(tmp_path: Path) -> Path:
    decisions = [
        decision("d0", items=("c1", "c2"), user_key="key-a"),
        decision("d1", items=("c3",), user_key="key-b", time=at(minutes=10)),
        decision("anon", items=("c1", "c2"), consent=False),
    ]
    outcomes = [
        outcome("d0", "click", "c2", occurred_at=at(seconds=40)),
        outcome("d0", "click", "c2", occurred_at=at(seconds=50), key="again"),
        outcome("d0", "conversion", "c2", 30.0, occurred_at=at(minutes=4), key="o1"),
        outcome("d0", "conversion", "c2", 5.0, occurred_at=at(minutes=6), key="o2"),
        outcome("d1", "click", "c3", occurred_at=at(minutes=8)),  # client clock 2 minutes behind
        outcome("anon", "click", "c1", occurred_at=at(seconds=5)),
    ]
    joined = join_files(
        [write_lines(tmp_path / "d.jsonl", decisions)], [write_lines(tmp_path / "o.jsonl", outcomes)], JoinOptions()
    )
    out = write_table(joined.decisions, tmp_path / "joined.parquet")
    write_table(joined.items, items_path(out))
    return out


def test_views_clicks_and_purchases_of_consented_decisions(tmp_path: Path) -> None:
    events = served_events(joined_files(tmp_path)).events
    assert tuple(events.columns) == EVENT_COLUMNS
    rows = list(events[["user_id", "event_type", "content_id", "timestamp"]].itertuples(index=False, name=None))
    assert rows == [
        ("key-a", "view", "c1", T0),
        ("key-a", "view", "c2", T0),
        ("key-b", "view", "c3", at(minutes=10)),
        ("key-a", "click", "c2", at(seconds=40)),  # two clicks on one item: one click, the first
        ("key-b", "click", "c3", at(minutes=10)),  # never before the view it followed
        ("key-a", "purchase", "c2", at(minutes=4)),
    ]
    purchase = events[events["event_type"] == "purchase"].iloc[0]
    assert purchase["value"] == 35.0
    assert events[events["event_type"] != "purchase"]["value"].isna().all()
    assert set(events["placement"]) == {"home_banner"}
    assert set(events["region"]) == {"DE"}
    assert "" not in set(events["user_id"])  # the decision without consent left nothing


def test_served_events_names_its_source_and_file(tmp_path: Path) -> None:
    joined = joined_files(tmp_path)
    keyed = served_events(joined)
    assert keyed.paths == (items_path(joined),)
    assert keyed.source.endswith("joined.items.parquet (served traffic)")
    assert served_events(items_path(joined)).events.equals(keyed.events)  # the item table itself will do


def test_missing_or_foreign_item_tables_are_refused(tmp_path: Path) -> None:
    with pytest.raises(
        EventLogError, match=r"the item table of .*elsewhere.parquet is missing; `training join` writes"
    ):
        served_events(tmp_path / "elsewhere.parquet")
    foreign = tmp_path / "foreign.items.parquet"
    pd.DataFrame({"x": [1]}).to_parquet(foreign)
    with pytest.raises(EventLogError, match="not an item table of `training join`"):
        served_events(foreign)


def test_nothing_consented_gives_no_events() -> None:
    items = pd.DataFrame(
        {
            "consent": [False],
            "user_key": [""],
            "decided_at": [T0],
            "region": ["DE"],
            "device": ["mobile"],
            "channel": ["web"],
            "placement": ["home_banner"],
            "content_id": ["c1"],
            "clicks": [1],
            "conversions": [0],
            "revenue": [0.0],
            "first_click_at": [T0],
            "first_conversion_at": pd.Series([pd.NaT], dtype="datetime64[ns, UTC]"),
        }
    )
    assert events_from_items(items).empty
