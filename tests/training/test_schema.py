"""The event-log loader: each kind of bad input gets a clear, located error."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from training.io import load_users, read_table
from training.schema import BadRowPolicy, EventLogError, validate

HEADER = "user_id,timestamp,event_type,content_id,category,value,region,device,channel,placement"
GOOD = [
    "u1,2026-01-01T10:00:00Z,view,sku-1,books,,eu,mobile,web,",
    "u1,2026-01-01T10:01:00+01:00,click,books-1,books,,eu,mobile,web,home_banner",
    "u2,2026-01-01 10:02:00,add_to_cart,sku-2,toys,19.5,us,desktop,app,",
]


def frame(tmp_path: Path, *rows: str, header: str = HEADER) -> pd.DataFrame:
    path = tmp_path / "events.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return read_table(path)


def check(tmp_path: Path, *rows: str) -> pd.DataFrame:
    clean, _ = validate(frame(tmp_path, *rows), "events.csv", BadRowPolicy.FAIL)
    return clean


def test_good_rows_are_typed_and_sorted(tmp_path: Path) -> None:
    clean = check(tmp_path, GOOD[2], *GOOD[:2])
    assert list(clean["user_id"]) == ["u1", "u1", "u2"]
    assert str(clean["timestamp"].dt.tz) == "UTC"
    # the +01:00 row is earlier in UTC, so it sorts first
    assert clean["timestamp"].iloc[0] == pd.Timestamp("2026-01-01T09:01:00Z")
    assert clean["event_type"].iloc[0] == "click"
    assert clean["value"].iloc[2] == 19.5
    assert clean["placement"].isna().iloc[1]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            ",2026-01-01T10:00:00Z,view,,,,,,,",
            r"row 2, column 'user_id': got '', expected a non-empty",
        ),
        (
            "u3,yesterday,view,,,,,,,",
            r"row 2, column 'timestamp': got 'yesterday', expected an ISO-8601",
        ),
        ("u3,,view,,,,,,,", r"row 2, column 'timestamp': got '', expected an ISO-8601"),
        (
            "u3,2026-01-01T10:00:00Z,buy,,,,,,,",
            r"row 2, column 'event_type': got 'buy', expected one of",
        ),
        (
            "u3,2026-01-01T10:00:00Z,purchase,,,-5,,,,",
            r"row 2, column 'value': got '-5', expected a finite",
        ),
        ("u3,2026-01-01T10:00:00Z,purchase,,,inf,,,,", r"column 'value': got 'inf'"),
        ("u3,2026-01-01T10:00:00Z,purchase,,,abc,,,,", r"column 'value': got 'abc'"),
        (
            "u3,2026-01-01T10:00:00Z,click,,,,,,,",
            r"row 2, column 'content_id': got '', expected a content id",
        ),
    ],
)
def test_each_bad_value_is_reported_with_row_column_value_and_expectation(
    tmp_path: Path, row: str, message: str
) -> None:
    with pytest.raises(EventLogError, match=message) as err:
        check(tmp_path, GOOD[0], row)
    assert "--bad-rows drop" in str(err.value)
    assert len(err.value.problems) == 1


def test_missing_required_column(tmp_path: Path) -> None:
    raw = frame(tmp_path, "u1,view", header="user_id,event_type")
    with pytest.raises(EventLogError, match=r"missing required column.*'timestamp'"):
        validate(raw, "events.csv", BadRowPolicy.FAIL)


def test_optional_columns_may_be_absent(tmp_path: Path) -> None:
    raw = frame(tmp_path, "u1,2026-01-01T10:00:00Z,view", header="user_id,timestamp,event_type")
    clean, _ = validate(raw, "events.csv", BadRowPolicy.FAIL)
    assert clean["region"].isna().all()


def test_drop_policy_drops_and_counts(tmp_path: Path) -> None:
    raw = frame(tmp_path, *GOOD, "u3,yesterday,view,,,,,,,", "u3,2026-01-01T10:00:00Z,buy,,,x,,,,")
    clean, report = validate(raw, "events.csv", BadRowPolicy.DROP)
    assert len(clean) == 3
    assert report.rows_read == 5
    assert report.rows_dropped == 2
    assert report.by_column == {"timestamp": 1, "event_type": 1, "value": 1}


def test_all_rows_bad_is_an_error_even_when_dropping(tmp_path: Path) -> None:
    with pytest.raises(EventLogError, match="every row is bad"):
        validate(frame(tmp_path, "u3,never,view,,,,,,,"), "events.csv", BadRowPolicy.DROP)


def test_empty_log(tmp_path: Path) -> None:
    with pytest.raises(EventLogError, match="no rows"):
        check(tmp_path)


def test_many_problems_are_summarised(tmp_path: Path) -> None:
    rows = [f"u{i},never,view,,,,,,," for i in range(30)]
    with pytest.raises(EventLogError, match=r"(?s)30 bad value\(s\).*and 10 more") as err:
        check(tmp_path, *rows)
    assert len(err.value.problems) == 30


def test_parquet_is_validated_the_same_way(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    pd.DataFrame(
        {
            "user_id": ["u1", "u2"],
            "timestamp": ["2026-01-01T00:00:00Z", "soon"],
            "event_type": ["view", "view"],
        }
    ).to_parquet(path)
    with pytest.raises(EventLogError, match=r"row 2, column 'timestamp': got 'soon'"):
        validate(read_table(path), str(path), BadRowPolicy.FAIL)


def test_unreadable_inputs(tmp_path: Path) -> None:
    with pytest.raises(EventLogError, match="file not found"):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "events.json").write_text("{}")
    with pytest.raises(EventLogError, match=r"unsupported file type '\.json'"):
        read_table(tmp_path / "events.json")
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(EventLogError, match="cannot parse parquet file"):
        read_table(tmp_path / "bad.parquet")


def test_users_table_errors(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text("user_id,region\nu1,eu\nu1,us\n")
    with pytest.raises(EventLogError, match=r"row 2, column 'user_id': repeats"):
        load_users(path)
    path.write_text("region\neu\n")
    with pytest.raises(EventLogError, match="missing required column 'user_id'"):
        load_users(path)
