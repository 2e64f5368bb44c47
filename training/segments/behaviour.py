"""Per-user behaviour as of an instant: profiles replayed from the events strictly before it.

The profiles are the service's own record (decision.sources.features.Profile) and the
features are computed from them by decision.sources.segment_features, so the vector a
user gets here is the one the service computes from that user's live profile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from decision.sources.features import Profile
from decision.sources.segment_features import BEHAVIOUR_NAMES, behaviour_values
from training.features import snapshot_time
from training.history import UserHistory


@dataclass(frozen=True)
class Behaviour:
    """One row per user with history before `as_of`. Holds user ids: keep it in memory only."""

    as_of: datetime
    profiles: list[Profile]
    frame: pd.DataFrame  # BEHAVIOUR_NAMES columns, indexed by user_id
    category_views: pd.DataFrame  # views per category (columns), same index

    def __len__(self) -> int:
        return len(self.profiles)


def as_utc(moment: datetime) -> datetime:
    """A naive instant is UTC, as everywhere in the project."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def profiles_as_of(
    events: pd.DataFrame, as_of: datetime, progress: Callable[[int], object] = lambda n: None
) -> list[Profile]:
    """Each user's Profile over their events strictly before `as_of`.

    `events` must be validated by training.schema (typed, sorted by user then time).
    """
    before = events[events["timestamp"] < pd.Timestamp(as_utc(as_of))]
    # through a fixed unit: pandas may store the column in ns, us or s
    seconds = (before["timestamp"].dt.as_unit("us").astype("int64") / 1e6).tolist()
    values = before["value"].astype("float64").tolist()
    columns = zip(
        before["user_id"].astype(str).tolist(),
        before["timestamp"].dt.to_pydatetime().tolist(),
        seconds,
        before["event_type"].astype(str).tolist(),
        _texts(before["content_id"]),
        _texts(before["category"]),
        values,
        strict=True,
    )
    profiles: list[Profile] = []
    history = UserHistory("")
    for i, (user, when, when_s, event_type, content_id, category, value) in enumerate(columns):
        if user != history.user_id:
            _close(history, as_of, profiles)
            history = UserHistory(user)
        history.add(when, when_s, event_type, content_id, category, value)
        if i % 20_000 == 19_999:
            progress(20_000)
    _close(history, as_of, profiles)
    progress(len(seconds) % 20_000)
    return profiles


def behaviour(
    events: pd.DataFrame, as_of: datetime | None = None, progress: Callable[[int], object] = lambda n: None
) -> Behaviour:
    """Every behaviour feature per user as of `as_of` (default: one second after the last event)."""
    moment = as_utc(as_of) if as_of is not None else snapshot_time(events)
    profiles = profiles_as_of(events, moment, progress)
    if not profiles:
        raise ValueError(f"no events before {moment.isoformat()}; pass a later --as-of")
    index = pd.Index([p.user_id for p in profiles], name="user_id")
    rows = np.array([behaviour_values(p, moment) for p in profiles], dtype=np.float64)
    frame = pd.DataFrame(rows, columns=list(BEHAVIOUR_NAMES), index=index)
    views = pd.DataFrame([dict(p.category_views) for p in profiles], index=index).fillna(0.0)
    return Behaviour(moment, profiles, frame, views.rename(columns=lambda c: c or "(none)"))


def _texts(column: pd.Series) -> list[str | None]:
    values = column.astype(object)
    return values.where(values.notna(), None).tolist()


def _close(history: UserHistory, as_of: datetime, profiles: list[Profile]) -> None:
    profile = history.profile(as_of)
    if profile is not None:
        profiles.append(profile)
