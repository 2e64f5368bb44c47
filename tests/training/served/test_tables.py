"""The written tables: the joined table's columns and dtypes (the contract OPE and KPIs read), file names."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.training.served.logs import at, decision, outcome, write_lines
from training.ope.joined import read_joined
from training.served.join import JoinOptions, join_files
from training.served.tables import ITEM_COLUMNS, JOINED_COLUMNS, items_path, summary_path, write_table

#: /work/notes/joined_table.md, column by column, plus this branch's three additions.
EXPECTED_DTYPES = {
    "decision_id": "str",
    "decided_at": "datetime64[ns, UTC]",
    "placement": "str",
    "region": "str",
    "device": "str",
    "channel": "str",
    "consent": "bool",
    "user_key": "str",
    "segment": "str",
    "source": "str",
    "tier": "str",
    "rule_id": "str",
    "ruleset_version": "str",  # added
    "model_name": "str",
    "model_version": "str",
    "experiment_id": "str",
    "experiment_version": "str",
    "arm": "str",
    "arm_probability": "float64",
    "levels": "str",
    "content_id": "str",
    "item_probability": "float64",
    "eligible": "int64",
    "items_shown": "int64",  # added
    "impressions": "int64",
    "clicks": "int64",
    "add_to_carts": "int64",
    "conversions": "int64",
    "other_outcomes": "int64",  # added: custom outcome types
    "revenue": "float64",
    "clicked": "bool",
    "converted": "bool",
    "reward": "float64",
    "first_outcome_at": "datetime64[ns, UTC]",
}


def written(tmp_path: Path) -> Path:
    decisions = write_lines(
        tmp_path / "d.jsonl", [decision("d0", items=("c1", "c2"), probabilities=(0.7, 0.3)), decision("d1")]
    )
    outcomes = write_lines(
        tmp_path / "o.jsonl", [outcome("d0", content_id="c2", occurred_at=at(1)), outcome("d1", "signup", "")]
    )
    joined = join_files([decisions], [outcomes], JoinOptions())
    out = write_table(joined.decisions, tmp_path / "out" / "joined.parquet")
    write_table(joined.items, items_path(out))
    return out


def test_the_joined_table_has_the_documented_columns_and_dtypes_after_a_parquet_round_trip(tmp_path: Path) -> None:
    table = pd.read_parquet(written(tmp_path))
    assert {name: str(dtype) for name, dtype in table.dtypes.items()} == EXPECTED_DTYPES
    assert tuple(table.columns) == JOINED_COLUMNS
    assert table["other_outcomes"].tolist() == [0, 1]
    assert table["clicks"].tolist() == [1, 0]


def test_the_item_table_round_trips_with_categorical_provenance(tmp_path: Path) -> None:
    items = pd.read_parquet(items_path(written(tmp_path)))
    assert tuple(items.columns) == ITEM_COLUMNS
    assert str(items["placement"].dtype) == "category"
    assert items["placement"].astype(str).tolist() == ["home_banner"] * 3
    assert items["decision_id"].astype(str).tolist() == ["d0", "d0", "d1"]
    assert items["clicked"].tolist() == [False, True, False]


def test_off_policy_evaluation_reads_the_written_table(tmp_path: Path) -> None:
    logged = read_joined(written(tmp_path))
    assert logged.decisions == 2
    assert logged.propensity.tolist() == [0.7, 1.0]


def test_the_side_files_sit_next_to_the_joined_table() -> None:
    assert items_path(Path("var/joined.parquet")) == Path("var/joined.items.parquet")
    assert summary_path(Path("var/joined.parquet")) == Path("var/joined.summary.json")
