"""The content catalog: loading, validation errors with row and field, eligibility."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from decision.sources.catalog import Catalog, CatalogError

ITEMS: list[dict[str, Any]] = [
    {"content_id": "a", "category": "books", "placements": ["home_banner", "email"]},
    {"content_id": "b", "category": "toys", "placements": ["home_banner"], "regions": ["DE"]},
    {
        "content_id": "c",
        "category": "toys",
        "placements": ["home_banner"],
        "active_from": "2026-02-01T00:00:00+00:00",
        "active_until": "2026-03-01T00:00:00+00:00",
        "attributes": {"discount": "10%"},
    },
]
JAN = datetime(2026, 1, 15, tzinfo=UTC)
FEB = datetime(2026, 2, 15, tzinfo=UTC)


def write(tmp_path: Path, items: object) -> Path:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"items": items}))
    return path


def test_eligibility_by_placement_region_and_time(tmp_path: Path) -> None:
    catalog = Catalog.load(write(tmp_path, ITEMS))
    assert len(catalog) == 3
    assert catalog.eligible("home_banner", "US", JAN) == {"a"}
    assert catalog.eligible("home_banner", "DE", JAN) == {"a", "b"}
    assert catalog.eligible("home_banner", "DE", FEB) == {"a", "b", "c"}
    assert catalog.eligible("email", "", FEB) == {"a"}
    assert catalog.eligible("cart_page", "DE", FEB) == frozenset()
    assert catalog.get("c") is not None
    assert catalog.get("c").attributes == {"discount": "10%"}  # type: ignore[union-attr]


def test_window_edges_are_from_inclusive_until_exclusive(tmp_path: Path) -> None:
    start, end = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    catalog = Catalog.load(write(tmp_path, ITEMS))
    assert "c" not in catalog.eligible("home_banner", "US", start - timedelta(microseconds=1))
    assert "c" in catalog.eligible("home_banner", "US", start)
    assert "c" in catalog.eligible("home_banner", "US", end - timedelta(microseconds=1))
    assert "c" not in catalog.eligible("home_banner", "US", end)


def test_eligibility_matches_each_items_own_window_at_every_edge(tmp_path: Path) -> None:
    day = timedelta(days=1)
    items = [
        {"content_id": f"i{n}", "category": "toys", "placements": ["home_banner"], **window}
        for n, window in enumerate(
            [
                {},
                {"active_from": "2026-01-05T00:00:00+00:00"},
                {"active_until": "2026-01-07T00:00:00+00:00"},
                {"active_from": "2026-01-03T00:00:00+00:00", "active_until": "2026-01-05T00:00:00+00:00"},
                {"active_from": "2026-01-05T00:00:00+00:00", "active_until": "2026-01-09T00:00:00+00:00"},
            ]
        )
    ]
    catalog = Catalog.load(write(tmp_path, items))
    moments = [datetime(2026, 1, 1, tzinfo=UTC) + n * day / 2 for n in range(20)]
    for moment in [*moments, *(m - timedelta(microseconds=1) for m in moments)]:
        started = {i.content_id for i in catalog.items if i.active_from is None or i.active_from <= moment}
        ended = {i.content_id for i in catalog.items if i.active_until is not None and i.active_until <= moment}
        expected = started - ended
        assert catalog.eligible("home_banner", "", moment) == expected, moment


def test_many_dated_items_do_not_blow_up_the_catalog(tmp_path: Path) -> None:
    """Sets per stretch of time are built when asked for: built up front, 1,000 dated items
    in 2 placements x 3 regions took 250 MiB (and 40 s of a GIL-holding reload)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    items = [
        {
            "content_id": f"promo-{n}",
            "category": "toys",
            "placements": ["home_banner", "cart_page"],
            "regions": ["DE", "US", "JP"][: 1 + n % 3],
            "active_from": (start + timedelta(hours=n)).isoformat(),
            "active_until": (start + timedelta(hours=n + 500)).isoformat(),
        }
        for n in range(1000)
    ]
    path = write(tmp_path, items)
    tracemalloc.start()
    try:
        catalog = Catalog.load(path)
        eligible = catalog.eligible("home_banner", "DE", start + timedelta(hours=700))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 30 * 2**20
    assert eligible == {f"promo-{n}" for n in range(201, 701)}  # every item shows in DE


def test_eligibility_returns_the_same_set_object_until_an_edge(tmp_path: Path) -> None:
    catalog = Catalog.load(write(tmp_path, ITEMS))
    assert catalog.eligible("home_banner", "DE", FEB) is catalog.eligible("home_banner", "DE", FEB + timedelta(days=1))


def test_round_trip_through_json(tmp_path: Path) -> None:
    catalog = Catalog.load(write(tmp_path, ITEMS))
    again = tmp_path / "again.json"
    again.write_text(catalog.to_json())
    assert Catalog.load(again).items == catalog.items


def test_repeatable_is_read_and_unstated_by_default(tmp_path: Path) -> None:
    items = [{**ITEMS[0], "repeatable": False}, {**ITEMS[1], "repeatable": True}, ITEMS[2]]
    catalog = Catalog.load(write(tmp_path, items))
    assert [item.repeatable for item in catalog.items] == [False, True, None]
    again = tmp_path / "again.json"
    again.write_text(catalog.to_json())
    assert [item.repeatable for item in Catalog.load(again).items] == [False, True, None]


def test_csv_catalog(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text(
        "content_id,category,placements,regions,active_from,active_until,repeatable,title\n"
        "a,books,home_banner|email,,,,no,Read more\n"
        "b,toys,cart_page,DE|US,2026-01-01,,,Toy sale\n"
    )
    catalog = Catalog.load(path)
    assert catalog.eligible("cart_page", "US", FEB) == {"b"}
    assert catalog.get("a").attributes == {"title": "Read more"}  # type: ignore[union-attr]
    assert [item.repeatable for item in catalog.items] == [False, None]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"content_id": ""}, r"row 2: field 'content_id': expected a non-empty string"),
        ({"placements": []}, r"row 2 \(b\): field 'placements': at least one placement"),
        ({"placements": "home_banner"}, r"row 2 \(b\): field 'placements': expected a list"),
        ({"active_from": "tomorrow"}, r"row 2 \(b\): field 'active_from': expected an ISO-8601"),
        ({"active_from": "2026-02-01", "active_until": "2026-01-01"}, "must be after active_from"),
        ({"colour": "red"}, r"row 2: unknown field 'colour'"),
        ({"content_id": "a"}, r"row 2: content_id 'a' repeats row 1"),
        ({"repeatable": "sometimes"}, r"row 2 \(b\): field 'repeatable': expected true or false, got 'sometimes'"),
    ],
)
def test_bad_items_name_row_and_field(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    items = [dict(ITEMS[0]), {**ITEMS[1], **change}]
    with pytest.raises(CatalogError, match=message):
        Catalog.load(write(tmp_path, items))


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text('{"items": [\n  {"content_id": "a",,}\n]}')
    with pytest.raises(CatalogError, match="line 2: not valid JSON"):
        Catalog.load(path)


def test_missing_and_empty_catalogs(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read catalog"):
        Catalog.load(tmp_path / "none.json")
    with pytest.raises(CatalogError, match="has no items"):
        Catalog.load(write(tmp_path, []))
