"""The two tables `training join` writes: their columns, dtypes and file names.

The joined table has one row per decision; its columns are documented in training/README.md
("The joined table"). Missing strings are "", never None; `eligible` is -1 when no tier
computed it (rules, defaults).
The item table has one row per shown item: what off-policy evaluation of rankings and
training (training/served/events.py) need; its text columns taken from the decision are
categorical (dictionary-encoded in Parquet).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from training.served.logs import DECISION_COLUMNS

Numbers = npt.NDArray[np.int64] | npt.NDArray[np.float64]

# The decision log's columns from the placement to the arm's probability, in its order.
_PROVENANCE = DECISION_COLUMNS[DECISION_COLUMNS.index("placement") : DECISION_COLUMNS.index("arm_probability") + 1]
JOINED_COLUMNS = (
    "decision_id",
    "decided_at",
    *_PROVENANCE,
    "levels",
    "content_id",
    "item_probability",
    "eligible",
    "items_shown",
    "cart_items",
    "cart_value",
    "cart_idle_minutes",
    "client_time",
    "excluded",
    "impressions",
    "clicks",
    "add_to_carts",
    "conversions",
    "other_outcomes",
    "revenue",
    "clicked",
    "converted",
    "reward",
    "first_outcome_at",
)
ITEM_COLUMNS = (
    "decision_id",
    "decided_at",
    *_PROVENANCE,
    "content_id",
    "rank",
    "probability",
    "score",
    "impressions",
    "clicks",
    "add_to_carts",
    "conversions",
    "revenue",
    "clicked",
    "converted",
    "first_click_at",
    "first_conversion_at",
)


@dataclass(frozen=True)
class Counts:
    """Joined outcomes per decision, aligned with the decisions frame."""

    impressions: Numbers
    clicks: Numbers
    add_to_carts: Numbers
    conversions: Numbers
    other: Numbers
    revenue: Numbers
    first_at: pd.Series


@dataclass(frozen=True)
class ItemCounts:
    """Joined outcomes per shown item, aligned with the items frame."""

    impressions: Numbers
    clicks: Numbers
    add_to_carts: Numbers
    conversions: Numbers
    revenue: Numbers
    first_click_at: pd.Series
    first_conversion_at: pd.Series


def joined_table(
    decisions: pd.DataFrame, items: pd.DataFrame, counts: Counts, reward: str, default_reward: float
) -> pd.DataFrame:
    """One row per decision; `reward` is click, conversion or revenue, the default where no outcome joined."""
    first_item = items.drop_duplicates("row").set_index("row").reindex(np.arange(len(decisions)))
    clicked, converted = counts.clicks > 0, counts.conversions > 0
    revenue = np.asarray(counts.revenue, dtype=np.float64)
    primary = {"click": clicked.astype(np.float64), "conversion": converted.astype(np.float64), "revenue": revenue}
    computed = {
        "content_id": first_item["content_id"].fillna("").astype("str").array,
        "item_probability": first_item["probability"].fillna(1.0).to_numpy(),
        "impressions": np.asarray(counts.impressions, dtype=np.int64),
        "clicks": np.asarray(counts.clicks, dtype=np.int64),
        "add_to_carts": np.asarray(counts.add_to_carts, dtype=np.int64),
        "conversions": np.asarray(counts.conversions, dtype=np.int64),
        "other_outcomes": np.asarray(counts.other, dtype=np.int64),
        "revenue": revenue,
        "clicked": clicked,
        "converted": converted,
        "reward": np.where(counts.first_at.notna().to_numpy(), primary[reward], default_reward),
        "first_outcome_at": counts.first_at.array,
    }
    source = {"decided_at": "time"}
    return _frame(
        {
            name: computed[name] if name in computed else decisions[source.get(name, name)].array
            for name in JOINED_COLUMNS
        }
    )


def item_table(decisions: pd.DataFrame, items: pd.DataFrame, counts: ItemCounts) -> pd.DataFrame:
    """One row per shown item, with its decision's provenance and the outcomes that named it."""
    rows = items["row"].to_numpy()
    columns = {
        "decision_id": _repeated(decisions["decision_id"], rows),
        "decided_at": decisions["time"].array.take(rows),
        **{name: _repeated(decisions[name], rows) for name in _PROVENANCE},
        "content_id": items["content_id"].array,
        "rank": items["rank"].to_numpy(),
        "probability": items["probability"].to_numpy(),
        "score": items["score"].to_numpy(),
        "impressions": np.asarray(counts.impressions, dtype=np.int64),
        "clicks": np.asarray(counts.clicks, dtype=np.int64),
        "add_to_carts": np.asarray(counts.add_to_carts, dtype=np.int64),
        "conversions": np.asarray(counts.conversions, dtype=np.int64),
        "revenue": np.asarray(counts.revenue, dtype=np.float64),
        "clicked": counts.clicks > 0,
        "converted": counts.conversions > 0,
        "first_click_at": counts.first_click_at.array,
        "first_conversion_at": counts.first_conversion_at.array,
    }
    return _frame(columns)


def _frame(columns: dict[str, object]) -> pd.DataFrame:
    """Columns as given, in order, without the copy into one block per dtype (at 3M items: hundreds of MB)."""
    return pd.DataFrame(columns, copy=False)


def _repeated(column: pd.Series, rows: npt.NDArray[np.int64]) -> object:
    """A decision column repeated for each of its items; text as categorical, so each
    decision's strings are stored once, not once per item (3 items: a third of the memory)."""
    if pd.api.types.is_string_dtype(column.dtype):
        codes, uniques = pd.factorize(column)
        return pd.Categorical.from_codes(codes[rows], categories=uniques)
    return column.to_numpy()[rows]


def items_path(joined: Path) -> Path:
    """Where the item table of a joined table lives by default: `joined.parquet` -> `joined.items.parquet`."""
    return joined.with_name(f"{joined.stem}.items.parquet")


def summary_path(joined: Path) -> Path:
    """Where the join summary goes by default: `joined.parquet` -> `joined.summary.json`."""
    return joined.with_name(f"{joined.stem}.summary.json")


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return path
