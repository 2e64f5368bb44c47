"""Decisions joined with their outcomes: one row per decision and one per shown item, with what could not be joined.

The rules, in order:

1. Every file is read before anything is matched, so an outcome may come from any file, in
   any order, before or after its decision's file (replicas each write their own logs).
2. A decision_id seen again (a re-shipped file) is kept once, the first time.
3. An idempotency key seen again (retries, replicas, restarts) counts once: the copy
   received first. The server already drops repeats within one process; this catches the rest.
4. An outcome whose decision_id no decision log holds is counted by type (and a sample of
   ids kept), never silently dropped.
5. An outcome's time is `occurred_at` (the client's clock: when the user acted) or, when
   the client sent none or `outcome_time="received"`, `received_at` (the server's clock:
   when it arrived; a batch reported late arrives late). It joins when it lies within
   [decided_at - skew, decided_at + window], both ends included: the skew tolerance keeps
   clicks whose client clock runs a little behind the server's.
6. Counts per decision cover every joined outcome; per item, the outcomes naming that item
   (an impression naming no item counts for every item: the whole answer was shown).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from training.served.logs import DecisionFrames, Progress, read_decisions, read_outcomes
from training.served.summary import SAMPLE_IDS, JoinSummary
from training.served.tables import Counts, ItemCounts, item_table, joined_table

Reward = Literal["click", "conversion", "revenue"]
OutcomeTime = Literal["occurred", "received"]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
OUTCOME_TYPES = ("impression", "click", "add_to_cart", "conversion")
_ITEM_OUTCOMES = ("click", "add_to_cart", "conversion")


@dataclass(frozen=True)
class JoinOptions:
    """How outcomes are attributed to decisions (see the module docstring)."""

    window: timedelta = timedelta(minutes=30)
    skew: timedelta = timedelta(minutes=5)
    reward: Reward = "click"
    default_reward: float = 0.0  # the reward of a decision without any outcome in its window
    outcome_time: OutcomeTime = "occurred"

    def __post_init__(self) -> None:
        if self.window <= timedelta(0):
            raise ValueError(f"the attribution window must be positive, got {self.window}")
        if self.skew < timedelta(0):
            raise ValueError(f"the clock-skew tolerance must be 0 or more, got {self.skew}")
        if self.reward not in get_args(Reward):
            raise ValueError(f"unknown reward {self.reward!r}: use click, conversion or revenue")
        if self.outcome_time not in get_args(OutcomeTime):
            raise ValueError(f"unknown outcome time {self.outcome_time!r}: use occurred or received")


@dataclass(frozen=True)
class Joined:
    decisions: pd.DataFrame  # the joined table (docs: /work/notes/joined_table.md, training/served/tables.py)
    items: pd.DataFrame  # one row per shown item
    summary: JoinSummary


def join_files(
    decision_paths: Sequence[Path],
    outcome_paths: Sequence[Path],
    options: JoinOptions | None = None,
    progress: Progress = lambda n: None,
) -> Joined:
    """Read every log file, then join (`progress` receives the records read, a chunk at a time)."""
    frames = read_decisions(decision_paths, progress)
    outcomes = read_outcomes(outcome_paths, progress)
    return join(frames, outcomes, options or JoinOptions(), (len(decision_paths), len(outcome_paths)))


def join(
    frames: DecisionFrames, outcomes: pd.DataFrame, options: JoinOptions, files: tuple[int, int] = (0, 0)
) -> Joined:
    """The join of already read logs (frames as `training.served.logs` builds them)."""
    decisions, items = _unique_decisions(frames)
    unique = outcomes.sort_values("received_at", kind="stable").drop_duplicates("idempotency_key")
    decided = _nanoseconds(decisions["time"])
    place = _placed(unique, decided, pd.Index(decisions["decision_id"]), options)
    kept = unique[place.inside]
    position, when = place.position[place.inside], place.when[place.inside]
    item_counts, not_shown = _item_counts(items, kept, position, when)
    unknown = unique[place.position < 0]
    last_received = _nanoseconds(outcomes["received_at"]).max() if len(outcomes) else np.iinfo(np.int64).min
    summary = JoinSummary(
        decision_files=files[0],
        outcome_files=files[1],
        decisions_read=len(frames.decisions),
        duplicate_decisions=len(frames.decisions) - len(decisions),
        outcomes_read=len(outcomes),
        duplicate_outcomes=len(outcomes) - len(unique),
        unknown_decision=len(unknown),
        before_window=int(place.before.sum()),
        after_window=int(place.after.sum()),
        joined=len(kept),
        not_shown=not_shown,
        open_windows=int((decided + _ns(options.window) > last_received).sum()),
        unknown_by_type={str(k): int(n) for k, n in unknown["type"].value_counts().items()},
        unknown_decision_ids=sorted(unknown["decision_id"].unique().tolist())[:SAMPLE_IDS],
    )
    counts = _decision_counts(kept, position, when, len(decisions))
    table = joined_table(decisions, items, counts, options.reward, options.default_reward)
    return Joined(table, item_table(decisions, items, item_counts), summary)


@dataclass(frozen=True)
class _Placement:
    """Where each outcome falls: its decision's row (-1: unknown), its time, and against the window."""

    position: IntArray
    when: IntArray
    before: BoolArray
    after: BoolArray
    inside: BoolArray


def _placed(outcomes: pd.DataFrame, decided: IntArray, decision_ids: pd.Index, options: JoinOptions) -> _Placement:
    position = decision_ids.get_indexer(pd.Index(outcomes["decision_id"])).astype(np.int64)
    known = position >= 0
    received = outcomes["received_at"]
    when = _nanoseconds(received if options.outcome_time == "received" else outcomes["occurred_at"].fillna(received))
    delta = when - (decided[np.where(known, position, 0)] if len(decided) else when)
    before = known & (delta < -_ns(options.skew))
    after = known & (delta > _ns(options.window))
    return _Placement(position, when, before, after, known & ~before & ~after)


def _unique_decisions(frames: DecisionFrames) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first record of each decision_id, and the items of those records (rows renumbered)."""
    first = ~frames.decisions["decision_id"].duplicated().to_numpy()
    if first.all():
        return frames.decisions, frames.items
    renumbered = np.cumsum(first) - 1
    rows = frames.items["row"].to_numpy()
    items = frames.items[first[rows]].copy()
    items["row"] = renumbered[items["row"].to_numpy()]
    return frames.decisions[first].reset_index(drop=True), items.reset_index(drop=True)


def _decision_counts(kept: pd.DataFrame, position: IntArray, when: IntArray, n: int) -> Counts:
    kinds = kept["type"]
    by_type = {kind: np.bincount(position[(kinds == kind).to_numpy()], minlength=n) for kind in OUTCOME_TYPES}
    conversion = (kinds == "conversion").to_numpy()
    return Counts(
        impressions=by_type["impression"],
        clicks=by_type["click"],
        add_to_carts=by_type["add_to_cart"],
        conversions=by_type["conversion"],
        other=np.bincount(position[~kinds.isin(OUTCOME_TYPES).to_numpy()], minlength=n),
        revenue=np.bincount(position[conversion], weights=kept["value"].to_numpy()[conversion], minlength=n),
        first_at=_first_times(position, when, n),
    )


def _item_counts(items: pd.DataFrame, kept: pd.DataFrame, position: IntArray, when: IntArray) -> tuple[ItemCounts, int]:
    """Per shown item: the outcomes naming it; also how many item outcomes named content not shown."""
    n = len(items)
    item = _item_positions(items, kept, position)
    kinds = kept["type"]
    whole_answer = ((kinds == "impression") & (kept["content_id"] == "")).to_numpy()
    impressions = np.bincount(item[(kinds == "impression").to_numpy() & (item >= 0)], minlength=n)
    rows = items["row"].to_numpy()
    answered = np.bincount(position[whole_answer], minlength=int(rows.max()) + 1 if n else 0)
    masks = {kind: (kinds == kind).to_numpy() & (item >= 0) for kind in _ITEM_OUTCOMES}
    conversion = masks["conversion"]
    named = kinds.isin(_ITEM_OUTCOMES).to_numpy() & (kept["content_id"] != "").to_numpy()
    counts = ItemCounts(
        impressions=impressions + (answered[rows] if n else 0),
        clicks=np.bincount(item[masks["click"]], minlength=n),
        add_to_carts=np.bincount(item[masks["add_to_cart"]], minlength=n),
        conversions=np.bincount(item[conversion], minlength=n),
        revenue=np.bincount(item[conversion], weights=kept["value"].to_numpy()[conversion], minlength=n),
        first_click_at=_first_times(item[masks["click"]], when[masks["click"]], n),
        first_conversion_at=_first_times(item[conversion], when[conversion], n),
    )
    return counts, int((named & (item < 0)).sum())


def _item_positions(items: pd.DataFrame, kept: pd.DataFrame, position: IntArray) -> IntArray:
    """For each joined outcome, the index of the item it names in its decision, or -1."""
    if items.empty:
        return np.full(len(kept), -1, dtype=np.int64)
    codes, uniques = pd.factorize(pd.concat([items["content_id"], kept["content_id"]], ignore_index=True))
    width = len(uniques) + 1
    item_keys = items["row"].to_numpy() * width + codes[: len(items)]
    outcome_keys = position * width + codes[len(items) :]
    first = ~pd.Index(item_keys).duplicated()  # the same content twice in one answer: its first rank
    hit = pd.Index(item_keys[first]).get_indexer(pd.Index(outcome_keys))
    named = (kept["content_id"] != "").to_numpy()
    found: IntArray = np.where((hit >= 0) & named, np.flatnonzero(first)[hit], -1)
    return found


def _first_times(position: IntArray, when: IntArray, n: int) -> pd.Series:
    """The earliest time per position (NaT where none), as UTC timestamps."""
    first = pd.Series(when).groupby(position).min()
    stamps = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    stamps[first.index.to_numpy()] = first.to_numpy().astype("datetime64[ns]")
    return pd.Series(stamps).dt.tz_localize("UTC")


def _nanoseconds(stamps: pd.Series) -> IntArray:
    values: IntArray = stamps.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]").view("int64")
    return values


def _ns(span: timedelta) -> int:
    return int(pd.Timedelta(span).value)
