"""Point-in-time training rows, the item statistics, and the end-of-log profile snapshot.

A decision is every click on catalog content. The log is replayed in time order: at each
instant, the decisions of that instant are built first, from each user's profile and the
item statistics over the events strictly before it (events at the same instant are not
seen either), then the instant's events are folded in. A decision's rows come from
`decision.sources.features.rows(...)`, the function the service calls, one per candidate
of the candidate stage (decision/sources/candidates.py); its label is the content clicked.

Decisions before `sample_before` (the training part) rank the clicked content against at
most `negatives` candidates drawn from the stage, when the stage is larger than that: a
1,000-item catalog then costs tens of rows per decision, not a thousand. Later decisions
(validation and test) keep the whole stage, as the service ranks it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from decision.domain import Request
from decision.sources.candidates import ordered, take
from decision.sources.catalog import Catalog
from decision.sources.feature_spec import NEAR, FeatureSpec
from decision.sources.features import ENGAGEMENTS, FEATURE_NAMES, RECENT_SECONDS, Profile, excluded, rows
from training.event_columns import EventColumns
from training.history import UserHistory

#: Candidates drawn per training decision besides the clicked content (large catalogs only).
TRAIN_NEGATIVES = 30


@dataclass(frozen=True)
class Dataset:
    """Decisions in time order; decision i owns rows starts[i]:starts[i + 1] of X."""

    X: np.ndarray  # float64 (rows, len(FEATURE_NAMES))
    items: np.ndarray  # int (rows,): the spec index of each row's candidate
    starts: np.ndarray  # int (decisions + 1,)
    label: np.ndarray  # int (decisions,): the spec index of the content clicked
    label_row: np.ndarray  # int (decisions,): the label's row within its decision, -1 if not a candidate
    meta: pd.DataFrame  # per decision: user_id, timestamp, region, device, placement, returning

    def __len__(self) -> int:
        return len(self.label)

    @property
    def sizes(self) -> np.ndarray:
        """Rows per decision (LightGBM's query groups)."""
        sizes: np.ndarray = np.diff(self.starts)
        return sizes

    def relevance(self) -> np.ndarray:
        """1 on each decision's label row, 0 elsewhere."""
        out = np.zeros(len(self.items), dtype=np.float64)
        found = self.label_row >= 0
        out[self.starts[:-1][found] + self.label_row[found]] = 1.0
        return out

    def take(self, decisions: np.ndarray) -> Dataset:
        """The given decisions (ascending indices) with their rows."""
        sizes = self.sizes[decisions]
        picked = np.repeat(self.starts[decisions], sizes) + _offsets(sizes)
        return Dataset(
            self.X[picked],
            self.items[picked],
            np.concatenate([[0], np.cumsum(sizes)]),
            self.label[decisions],
            self.label_row[decisions],
            self.meta.iloc[decisions].reset_index(drop=True),
        )


def _offsets(sizes: np.ndarray) -> np.ndarray:
    """0..size-1 for each size, concatenated."""
    ends = np.cumsum(sizes)
    offsets: np.ndarray = np.arange(int(ends[-1]) if len(ends) else 0) - np.repeat(ends - sizes, sizes)
    return offsets


@dataclass(frozen=True)
class Replay:
    """What one pass over the log yields."""

    dataset: Dataset
    profiles: list[Profile]  # every user's profile at the end of the log (the snapshot)
    spec: FeatureSpec  # the spec with its item statistics at the end of the log
    as_of: datetime


def build(
    events: pd.DataFrame,
    catalog: Catalog,
    spec: FeatureSpec,
    sample_before: datetime | None = None,
    negatives: int = TRAIN_NEGATIVES,
    progress: Callable[[int], object] = lambda n: None,
) -> Replay:
    """Replay the log once. `events` must be validated (training.schema); `spec` has empty stats."""
    log = EventColumns.of(events.sort_values("timestamp", kind="stable"))
    as_of = snapshot_time(events)
    index = spec.item_index
    decision = [t == "click" and c in index for t, c in zip(log.event_type, log.content_id, strict=True)]
    limit = spec.candidate_limit
    bound = sum(decision) * min(limit, len(index))
    replay = _Replayer(spec, catalog, limit, negatives, sample_before, bound)
    n = len(log.when_s)
    i = 0
    while i < n:
        j = i
        while j < n and log.when_s[j] == log.when_s[i]:
            j += 1
        replay.expire(log.when_s[i])
        for k in range(i, j):
            if decision[k]:
                replay.decide(log, k)
        for k in range(i, j):
            replay.add(log, k)
        progress(j - i)
        i = j
    profiles = [h.profile(as_of) for _, h in sorted(replay.histories.items())]
    stats_spec = _with_stats(spec, replay, as_of)
    return Replay(replay.dataset(), [p for p in profiles if p is not None], stats_spec, as_of)


def _with_stats(spec: FeatureSpec, replay: _Replayer, as_of: datetime) -> FeatureSpec:
    from training.spec import with_stats

    return with_stats(spec, replay.stats, as_of.isoformat())


class _Replayer:
    """The running state of one replay: users, item statistics, and the rows written so far."""

    def __init__(
        self,
        spec: FeatureSpec,
        catalog: Catalog,
        limit: int,
        negatives: int,
        sample_before: datetime | None,
        bound: int,
    ) -> None:
        self.spec, self.catalog, self.limit, self.negatives = spec, catalog, limit, negatives
        self.sample_before = sample_before
        self.stats = spec.stats
        self.histories: dict[str, UserHistory] = {}
        self.engaged_items: dict[str, tuple[list[int], set[int]]] = {}
        self.catalog_counts: dict[str, int] = {}
        self.window: deque[tuple[float, int]] = deque()
        self.rng = np.random.default_rng(0)
        # Untouched pages of an oversized np.empty cost no memory: the bound is an upper bound.
        self.X = np.empty((bound, len(FEATURE_NAMES)), dtype=np.float64)
        self.items = np.empty(bound, dtype=np.int64)
        self.filled = 0
        self.starts: list[int] = [0]
        self.labels: list[int] = []
        self.label_rows: list[int] = []
        self.meta: list[tuple[object, ...]] = []
        self._eligible: dict[frozenset[str], list[int]] = {}

    def expire(self, now_s: float) -> None:
        stats, window = self.stats, self.window
        while window and window[0][0] <= now_s - RECENT_SECONDS:
            _, item = window.popleft()
            stats.recent[item] -= 1
            stats.recent_total -= 1

    def decide(self, log: EventColumns, k: int) -> None:
        user, when = log.user_id[k], log.when[k]
        history = self.histories.get(user)
        profile = history.profile(when) if history is not None else None
        request = log.request(k, history)
        label = self.spec.item_index[str(log.content_id[k])]
        stage = take(self._ordered(request, when), excluded(self.spec, profile), self.limit)
        if self.sample_before is not None and when < self.sample_before and len(stage) > self.negatives + 1:
            others = [i for i in stage if i != label]
            stage = [label, *self.rng.choice(others, self.negatives, replace=False).tolist()]
        chosen = np.array(stage, dtype=np.int64)
        m = len(stage)
        self.X[self.filled : self.filled + m] = rows(self.spec, self.stats, profile, request, when, chosen)
        self.items[self.filled : self.filled + m] = chosen
        self.filled += m
        self.starts.append(self.filled)
        self.labels.append(label)
        self.label_rows.append(stage.index(label) if label in stage else -1)
        ctx = request.context
        self.meta.append((user, when, ctx.region, ctx.device, request.placement, profile is not None))

    def _ordered(self, request: Request, when: datetime) -> list[int]:
        """The eligible spec items in stage order: index order when all fit, else by popularity."""
        allowed = self.catalog.eligible(request.placement, request.context.region, when)
        indices = self._eligible.get(allowed)
        if indices is None:
            index = self.spec.item_index
            indices = self._eligible[allowed] = sorted(index[c] for c in allowed if c in index)
        return ordered(indices, self.stats, self.limit)

    def add(self, log: EventColumns, k: int) -> None:
        user = log.user_id[k]
        history = self.histories.get(user)
        if history is None:
            history = self.histories[user] = UserHistory(user)
        content, event_type = log.content_id[k], log.event_type[k]
        if content and event_type in ENGAGEMENTS:
            antecedent = self.spec.antecedent_index.get(content)
            if antecedent is not None:
                self._engaged(user, antecedent)
            if event_type == "click" and antecedent is not None and antecedent < len(self.spec.items):
                self._click(log.when_s[k], antecedent)
        log.add(history, k)

    def _engaged(self, user: str, antecedent: int) -> None:
        """A user's engagement with spec content: counted once per user and content."""
        before, known = self.engaged_items.setdefault(user, ([], set()))
        if antecedent in known:
            return
        stats, catalog = self.stats, len(self.spec.items)
        items_before = self.catalog_counts.get(user, 0)
        window = before[-NEAR:]
        if antecedent < catalog:
            stats.follows[before, antecedent] += 1.0
            stats.near[window, antecedent] += 1.0
            if before:
                stats.next[before[-1], antecedent] += 1.0
            self.catalog_counts[user] = items_before + 1
        stats.near_out[window] += 1.0
        earlier = [y for y in window if y < catalog]
        stats.near[antecedent, earlier] += 1.0
        stats.near_out[antecedent] += len(window)
        if before:
            stats.successors[before[-1]] += 1.0
        stats.engaged_users[antecedent] += 1.0
        stats.order_sum[antecedent] += len(before)
        before.append(antecedent)
        known.add(antecedent)

    def _click(self, when_s: float, item: int) -> None:
        stats = self.stats
        stats.clicks[item] += 1.0
        stats.clicks_total += 1.0
        stats.recent[item] += 1.0
        stats.recent_total += 1.0
        if stats.clicks[item] == 1.0:
            stats.first_click[item] = when_s
        self.window.append((when_s, item))

    def dataset(self) -> Dataset:
        columns = ["user_id", "timestamp", "region", "device", "placement", "returning"]
        return Dataset(
            self.X[: self.filled],
            self.items[: self.filled],
            np.array(self.starts, dtype=np.int64),
            np.array(self.labels, dtype=np.int64),
            np.array(self.label_rows, dtype=np.int64),
            pd.DataFrame(self.meta, columns=columns),
        )


def snapshot_time(events: pd.DataFrame) -> datetime:
    """The `as_of` of a snapshot of this log: one second after its last event."""
    last: datetime = events["timestamp"].max().to_pydatetime()
    return last + timedelta(seconds=1)
