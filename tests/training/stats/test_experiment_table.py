"""Selecting one experiment from the joined table: labels, days, and errors that say what to do."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.training.stats.synthetic import joined_table
from training.stats.experiment_table import experiment_rows, factorial_rows


def _table() -> pd.DataFrame:
    table = joined_table({("de-mobile", "control"): 0.1, ("", "b"): 0.1}, decisions_per_day=5, days=2, seed=1)
    other = table.head(3).assign(experiment_id="exp-2")
    return pd.concat([table, other], ignore_index=True)


def test_rows_carry_segment_labels_utc_days_and_float_metrics() -> None:
    rows = experiment_rows(_table(), "exp-1", ["click", "revenue"])
    assert len(rows) == 20
    assert set(rows["segment"]) == {"de-mobile", "(unknown)"}
    assert sorted(rows["day"].dt.strftime("%Y-%m-%d").unique()) == ["2025-03-01", "2025-03-02"]
    assert str(rows["day"].dt.tz) == "UTC"
    assert rows["click"].dtype == "float64"
    assert set(rows["click"]) <= {0.0, 1.0}


def test_an_unknown_experiment_lists_the_ones_present() -> None:
    with pytest.raises(ValueError, match=r"no decisions of experiment 'exp-9'.*\['exp-1', 'exp-2'\]"):
        experiment_rows(_table(), "exp-9", ["click"])


def test_a_missing_column_and_an_unknown_metric_are_named() -> None:
    with pytest.raises(ValueError, match=r"joined table lacks columns \['converted'\]"):
        experiment_rows(_table().drop(columns="converted"), "exp-1", ["conversion"])
    with pytest.raises(ValueError, match="unknown metric 'ctr'; choose one of click, conversion, revenue"):
        experiment_rows(_table(), "exp-1", ["ctr"])


def test_a_segment_named_like_the_pooled_one_is_refused() -> None:
    table = _table().assign(segment="all")
    with pytest.raises(ValueError, match="a segment is named 'all'"):
        experiment_rows(table, "exp-1", ["click"])


def _factorial_table() -> pd.DataFrame:
    table = joined_table({("de", "v1"): 0.1, ("fr", "v2"): 0.1}, decisions_per_day=4, days=1, seed=2)
    levels = ['{"headline": "bold", "image": "photo"}', '{"image": "none", "headline": "plain"}']
    return table.assign(levels=[levels[i % 2] for i in range(len(table))])


def test_factorial_rows_spread_the_levels_json_into_factor_columns() -> None:
    frame, factors = factorial_rows(_factorial_table(), "exp-1", "click")
    assert factors == ["headline", "image"]
    assert list(frame.columns) == ["headline", "image", "y", "segment"]
    assert frame.loc[0, "headline"] == "bold"
    assert frame.loc[1, "image"] == "none"
    assert set(frame["y"]) <= {0, 1}


def test_factorial_rows_refuse_bad_levels_and_revenue() -> None:
    table = _factorial_table()
    with pytest.raises(ValueError, match=r"levels 'headline=bold' is not JSON"):
        factorial_rows(table.assign(levels="headline=bold"), "exp-1", "click")
    with pytest.raises(ValueError, match=r"lacks some of the factors \['headline', 'image'\]"):
        factorial_rows(
            table.assign(levels=['{"headline": "a"}', '{"headline": "b", "image": "c"}'] * 4), "exp-1", "click"
        )
    with pytest.raises(ValueError, match="needs a 0/1 metric"):
        factorial_rows(table, "exp-1", "revenue")
