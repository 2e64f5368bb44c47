"""Simulated users taken from a generated world (`training generate --out DIR`) instead of drawn.

Region, device and segment come from DIR's users table; the history the truth reads comes
from DIR's event log, as of its end: past clicks per catalog content, sessions (a gap of
more than SESSION_GAP_SECONDS starts one, as the feature definitions say), purchase value
and the last event. Taste is not stored, so it is estimated from the category views
(posterior mean under the generator's Dirichlet(0.3) prior; the generator draws 80 % of
views from the taste, so the estimate is a little flatter than the truth). Consent is drawn
with `consent_share` from the seed. A server whose profile snapshot was trained on the same
DIR knows these users by their ids, so its model can personalize for them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from decision.sources.features import SESSION_GAP_SECONDS
from training.generate import SEGMENTS
from training.io import DataPaths, load_users, read_table
from training.schema import BadRowPolicy, EventLogError, validate
from training.traffic.population import DEFAULT_CONSENT_SHARE, SimUser
from training.truth import CATEGORIES, CONTENT_VOCAB, DEVICES, REGIONS

CONSENT_STREAM = 4
_TASTE_PRIOR = 0.3
_ALLOWED = {"region": REGIONS, "device": DEVICES, "segment": tuple(SEGMENTS)}


def users_from(data_dir: Path, seed: int, consent_share: float = DEFAULT_CONSENT_SHARE) -> list[SimUser]:
    """The users of the world in `data_dir`, in the users table's order."""
    paths = DataPaths.in_dir(data_dir)
    if paths.users is None:
        raise EventLogError(str(data_dir), "no users.csv|parquet here; `training generate --out DIR` writes one")
    table = _checked_users(paths.users)
    events, _ = validate(read_table(paths.events), str(paths.events), BadRowPolicy.FAIL)
    events = events[events["user_id"].isin(table.index)]
    taste = _taste(events, table.index)
    clicks = _counts(events[events["event_type"] == "click"], "content_id", CONTENT_VOCAB, table.index)
    history = _history(events).reindex(table.index)
    consent = np.random.default_rng([seed, CONSENT_STREAM]).random(len(table)) < consent_share
    last_seen = [None if pd.isna(t) else t.to_pydatetime() for t in history["last_seen"]]
    return [
        SimUser(
            user_id=str(user_id),
            segment=str(table["segment"].iloc[i]),
            region=str(table["region"].iloc[i]),
            device=str(table["device"].iloc[i]),
            consent=bool(consent[i]),
            taste=taste[i],
            clicks=clicks[i],
            sessions=int(history["sessions"].fillna(0).iloc[i]),
            spend=float(history["spend"].fillna(0.0).iloc[i]),
            last_seen=last_seen[i],
        )
        for i, user_id in enumerate(table.index)
    ]


def _checked_users(path: Path) -> pd.DataFrame:
    table = load_users(path)
    for column, allowed in _ALLOWED.items():
        if column not in table.columns:
            raise EventLogError(str(path), f"missing column {column!r}; the simulator needs region, device and segment")
        wrong = ~table[column].isin(allowed).to_numpy()
        if wrong.any():
            row = int(wrong.nonzero()[0][0]) + 1
            raise EventLogError(
                str(path),
                f"row {row}, column {column!r}: got {table[column].iloc[row - 1]!r}, "
                f"expected one of {'|'.join(allowed)} (the synthetic world's values)",
            )
    return table


def _counts(events: pd.DataFrame, column: str, values: tuple[str, ...], users: pd.Index) -> np.ndarray:
    """Per user (rows, in `users` order) the number of events per value of `column` (columns, `values` order)."""
    known = events[events[column].isin(values)]
    table = pd.crosstab(known["user_id"], known[column].astype(str))
    return table.reindex(index=users, columns=list(values), fill_value=0).to_numpy(dtype=np.float64)


def _taste(events: pd.DataFrame, users: pd.Index) -> np.ndarray:
    views = _counts(events[events["event_type"] == "view"], "category", CATEGORIES, users)
    smoothed = views + _TASTE_PRIOR
    return np.asarray(smoothed / smoothed.sum(axis=1, keepdims=True))


def _history(events: pd.DataFrame) -> pd.DataFrame:
    """Per user: sessions, purchase value and the time of the last event."""
    ordered = events.sort_values(["user_id", "timestamp"])
    gap = ordered.groupby("user_id")["timestamp"].diff().dt.total_seconds()
    ordered = ordered.assign(starts=gap.isna() | (gap > SESSION_GAP_SECONDS))
    spend = ordered["value"].where(ordered["event_type"] == "purchase", 0.0).fillna(0.0)
    return (
        ordered.assign(spend=spend)
        .groupby("user_id")
        .agg(sessions=("starts", "sum"), spend=("spend", "sum"), last_seen=("timestamp", "max"))
    )
