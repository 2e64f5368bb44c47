"""Served traffic as training events: what the service showed, and what users did with it, keyed by user key.

From the item table of a join (one row per shown item) and only for decisions made with
personalization consent (the only ones logged with a user key):

- every shown item is a `view` at the decision time;
- a clicked item is one `click` at its first click;
- a converted item is one `purchase` at its first conversion, with the item's summed value.

Times are the join's outcome times (training/served/join.py), never earlier than the
decision: within the clock-skew tolerance a click may carry a client time slightly before
it, and a click must not precede the view it followed. Repeated clicks on one item of one
decision count once (one intent; each click would otherwise become its own training
decision). Outcomes that name no shown item (an order-level conversion) and add-to-carts
(the logs carry no removals, so a served cart would never empty) become no events.
`user_id` is the user key, which `training.io.load` keeps as it is (`KeyedEvents`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from training.io import KeyedEvents
from training.schema import EventLogError
from training.served.tables import items_path

_CONTEXT = ("region", "device", "channel", "placement")
_READ = (
    "consent",
    "user_key",
    "decided_at",
    *_CONTEXT,
    "content_id",
    "clicks",
    "conversions",
    "revenue",
    "first_click_at",
    "first_conversion_at",
)
EVENT_COLUMNS = ("user_id", "timestamp", "event_type", "content_id", "value", *_CONTEXT)


def served_events(joined: Path) -> KeyedEvents:
    """The training events of a joined table (`training train --served`); reads the item table beside it.

    `joined` may also name the item table itself (`*.items.parquet`).
    """
    path = joined if joined.name.endswith(".items.parquet") else items_path(joined)
    if not path.is_file():
        raise EventLogError(
            str(path),
            f"the item table of {joined} is missing; `training join` writes it next to the joined table",
        )
    try:
        items = pd.read_parquet(path, columns=list(_READ))
    except (ValueError, OSError, KeyError) as exc:
        raise EventLogError(str(path), f"not an item table of `training join` ({exc})") from exc
    return KeyedEvents(events_from_items(items), f"{path} (served traffic)", (path,))


def events_from_items(items: pd.DataFrame) -> pd.DataFrame:
    """Event-log rows (EVENT_COLUMNS) for the consented rows of an item table."""
    shown = items[items["consent"].to_numpy(dtype=bool) & (items["user_key"] != "").to_numpy()]
    clicked = shown[shown["clicks"].to_numpy() > 0]
    converted = shown[shown["conversions"].to_numpy() > 0]
    frames = [
        _events(shown, "view", shown["decided_at"], np.nan),
        _events(clicked, "click", _not_before(clicked["first_click_at"], clicked["decided_at"]), np.nan),
        _events(
            converted,
            "purchase",
            _not_before(converted["first_conversion_at"], converted["decided_at"]),
            converted["revenue"].to_numpy(),
        ),
    ]
    return pd.concat(frames, ignore_index=True)[list(EVENT_COLUMNS)]


def _events(rows: pd.DataFrame, kind: str, when: pd.Series, value: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": rows["user_key"].to_numpy(),
            "timestamp": when.array,
            "event_type": kind,
            "content_id": rows["content_id"].to_numpy(),
            "value": value,
            **{name: rows[name].to_numpy() for name in _CONTEXT},
        }
    )


def _not_before(when: pd.Series, decided_at: pd.Series) -> pd.Series:
    return when.where(when >= decided_at, decided_at)
