"""The event log's columns as plain Python lists, for the replay's event-by-event loop.

Indexing a list in a loop costs a fraction of indexing a pandas column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from decision.domain import Cart, Context, Request
from training.history import UserHistory


@dataclass(frozen=True)
class EventColumns:
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
    def of(cls, events: pd.DataFrame) -> EventColumns:
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

    def add(self, history: UserHistory, j: int) -> None:
        history.add(
            self.when[j], self.when_s[j], self.event_type[j], self.content_id[j], self.category[j], self.value[j]
        )

    def request(self, i: int, history: UserHistory | None) -> Request:
        return Request(
            user_id=self.user_id[i],
            placement=self.placement[i] or "",
            context=Context(
                region=self.region[i] or "",
                device=self.device[i] or "",
                channel=self.channel[i] or "",
                client_time=self.when[i],
            ),
            cart=history.cart() if history is not None else Cart(),
            consent=True,
        )
