"""Point-in-time training rows and the end-of-log profile snapshot.

A decision is every click on catalog content. Its features come from
`decision.sources.features.vector(profile, request, t)` where the profile holds only the user's
events strictly before t (events at the same instant as t are not seen either) and the
request carries the click's own context (region, device, channel, placement, client time)
and the cart implied by earlier events. Its label is the content clicked at t: the next
content the user engages with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from decision.domain import Context, Request
from decision.sources.catalog import Catalog
from decision.sources.features import FEATURE_NAMES, Profile, vector
from training.history import UserHistory


@dataclass(frozen=True)
class Dataset:
    """Rows in time order. `eligible[i, k]`: class k could be shown at decision i."""

    X: np.ndarray  # float64 (n, len(FEATURE_NAMES))
    y: np.ndarray  # int (n,), index into classes
    classes: tuple[str, ...]
    eligible: np.ndarray  # bool (n, len(classes))
    past_clicks: np.ndarray  # float32 (n, len(classes)): the user's clicks on each before t
    meta: pd.DataFrame  # user_id, timestamp, region, device, placement, returning

    def __len__(self) -> int:
        return len(self.y)

    def take(self, rows: np.ndarray) -> Dataset:
        return Dataset(
            self.X[rows],
            self.y[rows],
            self.classes,
            self.eligible[rows],
            self.past_clicks[rows],
            self.meta.iloc[rows].reset_index(drop=True),
        )


@dataclass(frozen=True)
class _Log:
    """The event columns as plain Python lists: indexing them in a loop is far cheaper."""

    user_id: list[str]
    event_type: list[str]
    content_id: list[str | None]
    category: list[str | None]
    value: list[float]  # NaN = no value
    region: list[str | None]
    device: list[str | None]
    channel: list[str | None]
    placement: list[str | None]
    when: list[datetime]
    when_s: list[float]

    @classmethod
    def of(cls, events: pd.DataFrame) -> _Log:
        def texts(name: str) -> list[str | None]:
            column = events[name].astype(object)
            return column.where(column.notna(), None).tolist()

        return cls(
            user_id=events["user_id"].astype(str).tolist(),
            event_type=events["event_type"].astype(str).tolist(),
            **{n: texts(n) for n in ("content_id", "category", "region", "device", "channel", "placement")},
            value=events["value"].astype("float64").tolist(),
            when=list(events["timestamp"].dt.to_pydatetime()),
            # through a fixed unit: pandas 3 stores parsed timestamps in microseconds, not nanoseconds
            when_s=(events["timestamp"].dt.as_unit("us").astype("int64") / 1e6).tolist(),
        )

    def add(self, history: UserHistory, rows: list[int]) -> None:
        for j in rows:
            history.add(
                self.when[j],
                self.when_s[j],
                self.event_type[j],
                self.content_id[j],
                self.category[j],
                self.value[j],
            )
        rows.clear()

    def request(self, i: int, history: UserHistory) -> Request:
        return Request(
            user_id=self.user_id[i],
            placement=self.placement[i] or "",
            context=Context(
                region=self.region[i] or "",
                device=self.device[i] or "",
                channel=self.channel[i] or "",
                client_time=self.when[i],
            ),
            cart=history.cart(),
            consent=True,
        )


def build(
    events: pd.DataFrame, catalog: Catalog, progress: Callable[[int], object] = lambda n: None
) -> tuple[Dataset, list[Profile]]:
    """Replay the log once: training rows for every decision, then each user's final profile.

    `events` must be validated (training.schema) and sorted by user then time.
    """
    classes = catalog.content_ids
    class_ix = {c: i for i, c in enumerate(classes)}
    as_of = snapshot_time(events)
    log = _Log.of(events)
    decision = (events["event_type"] == "click").to_numpy() & events["content_id"].isin(class_ix).to_numpy()
    n, k = int(decision.sum()), len(classes)
    # preallocated: no per-row arrays to stack (that doubled peak memory at 1M events)
    X = np.empty((n, len(FEATURE_NAMES)), dtype=np.float64)
    eligible = np.zeros((n, k), dtype=bool)
    past = np.zeros((n, k), dtype=np.float32)
    labels = np.empty(n, dtype=np.int64)
    meta: list[tuple[object, ...]] = []
    snapshot: list[Profile] = []
    history = UserHistory("")
    pending: list[int] = []  # events at the current instant: added once time has moved on
    for i, (user, when) in enumerate(zip(log.user_id, log.when, strict=True)):
        if history.user_id != user:
            log.add(history, pending)
            if history.events:
                snapshot.append(_final(history, as_of))
            history = UserHistory(user)
        elif pending and log.when_s[pending[0]] != log.when_s[i]:
            log.add(history, pending)
        if decision[i]:
            row = len(meta)
            request = log.request(i, history)
            profile = history.profile(as_of=when)
            X[row] = vector(profile, request, when)
            labels[row] = class_ix[str(log.content_id[i])]
            allowed = catalog.eligible(request.placement, request.context.region, when)
            eligible[row, [class_ix[c] for c in allowed]] = True
            for content_id, clicks in history.content_clicks.items():
                if content_id in class_ix:
                    past[row, class_ix[content_id]] = clicks
            ctx = request.context
            meta.append((user, when, ctx.region, ctx.device, request.placement, profile is not None))
        pending.append(i)
        if i % 10_000 == 9_999:
            progress(10_000)
    log.add(history, pending)
    if history.events:
        snapshot.append(_final(history, as_of))
    progress(len(log.when) % 10_000)
    columns = ["user_id", "timestamp", "region", "device", "placement", "returning"]
    dataset = Dataset(X, labels, classes, eligible, past, pd.DataFrame(meta, columns=columns))
    order = np.argsort(dataset.meta["timestamp"].to_numpy(), kind="stable")
    return dataset.take(order), snapshot


def snapshot_time(events: pd.DataFrame) -> datetime:
    """The `as_of` of a snapshot of this log: one second after its last event."""
    last: datetime = events["timestamp"].max().to_pydatetime()
    return last + timedelta(seconds=1)


def _final(history: UserHistory, as_of: datetime) -> Profile:
    profile = history.profile(as_of)
    assert profile is not None  # called only once the user has events
    return profile
