"""THE feature definitions, shared by training (point-in-time) and serving (hot path).

The model ranks candidate content: one row per (user, candidate item) of a decision. A row
is a shared block (the user's aggregates from a `Profile`, then the request's context),
an item block (the candidate's codes and popularity, from the `FeatureSpec` and its
`ItemStats`) and a pair block (how this user relates to this candidate: clicks on it, the
share of their events in its category, hours since they last engaged with that category,
and co-engagement: how often users who engaged with what this user engaged with went on
to engage with the candidate). Training builds a `Profile` and the item statistics from the
events strictly before each decision and calls `rows()`; the service calls `row_buffer()`,
which assembles the same values from the same block functions as bytes (its caches keep
them per user); tests hold the two equal, so the paths cannot drift apart.

No value of any data set is named here: every vocabulary (content, categories, regions,
devices, channels, placements) comes from the spec, learned from the training data.

Missing values: with no profile (unknown user, or no personalization consent) the user
block holds its "no history" values: `has_history` = 0, counts and shares 0, and NaN for
quantities that have no value without history (recency, tenure, averages). LightGBM
treats NaN as missing. Codes are 1 + the value's index in the spec's vocabulary; 0 means
empty, unknown or too rare to have its own code.

Only stdlib, numpy and decision's own modules are imported: the serving image has no pandas.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import numpy as np

from decision.domain import Request
from decision.sources.feature_definitions import (
    CATEGORICAL_FEATURES,
    CATEGORY_HOURS,
    CO_ENGAGED,
    COLD_PAIR,
    COLUMN,
    CONTEXT_START,
    ENGAGED_LIMIT,
    ENGAGEMENTS,
    FEATURE_DESCRIPTIONS,
    FEATURE_NAMES,
    FEATURE_SET_VERSION,
    IN_SESSION,
    ITEM_COLUMNS,
    N_FEATURES,
    ORDER_GAP,
    RECENCY,
    RECENT_SECONDS,
    SESSION_EVENTS,
    SESSION_GAP_SECONDS,
    SHARED,
    SINCE_PURCHASE,
    TENURE,
    USER_COLUMNS,
    epoch,
    feature_set_version,
)
from decision.sources.feature_spec import FeatureSpec, ItemStats
from decision.sources.pair_features import (
    ProfileView,
    excluded,
    item_columns,
    pair_columns,
    request_excluded,
    view,
)

__all__ = [
    "BYTES_UP_TO",
    "CATEGORICAL_FEATURES",
    "CO_ENGAGED",
    "ENGAGED_LIMIT",
    "ENGAGEMENTS",
    "FEATURE_DESCRIPTIONS",
    "FEATURE_NAMES",
    "FEATURE_SET_VERSION",
    "RECENT_SECONDS",
    "SESSION_GAP_SECONDS",
    "SHARED",
    "Profile",
    "ProfileView",
    "epoch",
    "excluded",
    "feature_set_version",
    "item_columns",
    "request_excluded",
    "row_buffer",
    "rows",
    "shared_values",
    "view",
]


@dataclass(frozen=True, slots=True)
class Profile:
    """A user's aggregates over the events strictly before `as_of`.

    `user_id` holds the user key (decision.privacy) wherever profiles are stored. Built by
    training for every decision (point in time) and once at the end of the log for the
    snapshot the service reads. Treat the mappings as read-only. `category_last` holds
    epoch seconds; `engaged` the content engaged with (clicks, carts, purchases), each id
    once, oldest first, at most ENGAGED_LIMIT.
    """

    user_id: str
    as_of: datetime
    first_seen: datetime
    last_seen: datetime
    session_start: datetime
    last_purchase: datetime | None = None
    events: int = 0
    sessions: int = 0
    session_events: int = 0
    views: int = 0
    clicks: int = 0
    carts: int = 0
    purchases: int = 0
    monetary: float = 0.0
    last_content: str = ""
    content_clicks: Mapping[str, int] = field(default_factory=dict)
    category_views: Mapping[str, int] = field(default_factory=dict)
    category_events: Mapping[str, int] = field(default_factory=dict)
    category_last: Mapping[str, float] = field(default_factory=dict)
    engaged: tuple[str, ...] = ()
    _row: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _times: tuple[float, float, float] = field(init=False, repr=False, compare=False)
    _view: list[ProfileView] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # What does not depend on `now` is computed once here: the user block of every row.
        set_ = object.__setattr__
        set_(self, "_row", _user_block(self))
        purchase = math.nan if self.last_purchase is None else epoch(self.last_purchase)
        set_(self, "_times", (epoch(self.first_seen), epoch(self.last_seen), purchase))
        set_(self, "_view", [])  # one cached ProfileView, for the spec last asked about


def _user_block(p: Profile) -> tuple[float, ...]:
    # Plain floats: every live profile update builds a Profile, and every request copies this
    # block; numpy would cost ~1 µs per slot filled and a call per copy.
    block = [0.0] * SHARED
    block[:USER_COLUMNS] = (
        1.0 if p.events else 0.0,
        p.events,
        p.sessions,
        p.views,
        p.clicks,
        p.carts,
        p.purchases,
        p.monetary,
        p.monetary / p.purchases if p.purchases else math.nan,
        p.clicks / p.views if p.views else math.nan,
        len(p.engaged),
        math.nan,
        math.nan,
        math.nan,
        0.0,
        0.0,
    )
    return tuple(block)


def _cold_block() -> tuple[float, ...]:
    block = [0.0] * SHARED
    for column in (COLUMN["avg_order_value"], COLUMN["click_rate"], TENURE, RECENCY, SINCE_PURCHASE):
        block[column] = math.nan
    return tuple(block)


_COLD_BLOCK = _cold_block()


def shared_values(spec: FeatureSpec, profile: Profile | None, request: Request, now: datetime) -> list[float]:
    """The user and context columns of every row of this decision (SHARED floats).

    Never raises for odd context values: unknown values map to code 0, naive datetimes are UTC.
    """
    out = list(_COLD_BLOCK if profile is None else profile._row)
    now_s = epoch(now)
    if profile is not None:
        first, last, purchase = profile._times
        out[TENURE] = (now_s - first) / 86400.0
        out[RECENCY] = (now_s - last) / 3600.0
        out[SINCE_PURCHASE] = (now_s - purchase) / 86400.0
        if now_s - last < SESSION_GAP_SECONDS:
            out[IN_SESSION] = 1.0
            out[SESSION_EVENTS] = profile.session_events
    ctx = request.context
    clock = ctx.client_time or now
    cart = request.cart
    age = (now_s - epoch(cart.updated_at)) / 3600.0 if cart.updated_at is not None and cart.item_count > 0 else math.nan
    regions, devices, channels, placements = spec.context_codes
    out[CONTEXT_START : CONTEXT_START + 9] = (
        clock.hour,
        clock.weekday(),
        regions.get(ctx.region, 0),
        devices.get(ctx.device, 0),
        channels.get(ctx.channel, 0),
        placements.get(request.placement, 0),
        cart.item_count,
        cart.value,
        age,
    )
    return out


def rows(
    spec: FeatureSpec,
    stats: ItemStats,
    profile: Profile | None,
    request: Request,
    now: datetime,
    candidates: np.ndarray,
    item_block: np.ndarray | None = None,
) -> np.ndarray:
    """The model input for one decision: one float64 row per candidate (spec item indices).

    `stats` are the item statistics as of `now`: the spec's own when serving, the running
    ones during training's replay. `item_block`: `item_columns` of every spec item under
    `stats`, when the caller keeps it, else computed for the candidates.
    """
    shared = shared_values(spec, profile, request, now)
    return _assembled(shared, _tail(spec, stats, profile, candidates, item_block), now, profile is not None)


def _assembled(shared: list[float], tail: np.ndarray, now: datetime, has_profile: bool) -> np.ndarray:
    """The rows: the shared block, then each candidate's tail, category_hours completed."""
    out = np.empty((len(tail), N_FEATURES), dtype=np.float64)
    out[:, :SHARED] = shared
    out[:, SHARED:] = tail
    if has_profile:
        out[:, CATEGORY_HOURS] += epoch(now) / 3600.0
    return out


#: Up to this many candidates the rows are joined as bytes; above it numpy's few vectorized
#: calls cost less than a Python loop over the rows, even with their fixed cost per call.
BYTES_UP_TO = 64


def row_buffer(
    spec: FeatureSpec,
    profile: Profile | None,
    request: Request,
    now: datetime,
    candidates: np.ndarray,
    item_block: np.ndarray,
) -> bytearray | np.ndarray:
    """Serving's `rows(spec, spec.stats, ...)`: the same float64 values, C order, in a writable
    buffer (a bytearray, or an array above BYTES_UP_TO candidates).

    The item and pair blocks of each row (the tail) are kept with the profile's view (and for
    users without a profile per candidates array) while the same candidates array comes back,
    so a user's next request to the same placement costs a join of bytes and no numpy call:
    inside the server each numpy call finds its code cold and costs several times what it
    does in a loop (bench/README.md, "Design figures"). category_hours, the one tail value that
    moves with `now`, is kept relative and completed here.
    """
    kept = _kept_tail(spec, profile, candidates, item_block)
    shared = shared_values(spec, profile, request, now)
    if not kept.rows:  # more than BYTES_UP_TO candidates
        return _assembled(shared, kept.block, now, profile is not None)
    parts = [array("d", shared).tobytes()] * (2 * len(kept.rows))
    parts[1::2] = kept.rows
    buffer = bytearray(b"".join(parts))
    if profile is not None:
        hours = epoch(now) / 3600.0
        with memoryview(buffer).cast("d") as cells:
            for at in range(CATEGORY_HOURS, len(cells), N_FEATURES):
                cells[at] += hours
    return buffer


def _tail(
    spec: FeatureSpec, stats: ItemStats, profile: Profile | None, candidates: np.ndarray, item_block: np.ndarray | None
) -> np.ndarray:
    """The item and pair blocks of the candidates' rows (category_hours relative: without now's hour)."""
    block = item_columns(spec, stats, candidates) if item_block is None else item_block[candidates]
    tail = np.empty((candidates.size, N_FEATURES - SHARED), dtype=np.float64)
    tail[:, :ITEM_COLUMNS] = block
    if profile is None:
        tail[:, ITEM_COLUMNS:] = COLD_PAIR
        tail[:, ORDER_GAP - SHARED] = -block[:, 5]
    else:
        tail[:, ITEM_COLUMNS:] = pair_columns(spec, stats, view(spec, profile), candidates, block)
    return tail


class KeptTail(NamedTuple):
    """The candidates' item and pair blocks (category_hours relative), and each row of them as
    bytes when there are at most BYTES_UP_TO candidates (else empty: numpy assembles them)."""

    block: np.ndarray
    rows: list[bytes]

    @classmethod
    def of(cls, block: np.ndarray) -> KeptTail:
        return cls(block, [row.tobytes() for row in block] if len(block) <= BYTES_UP_TO else [])


#: serving's tails of users without a profile: id(candidates) -> (candidates, item_block, tail)
_COLD_TAILS: dict[int, tuple[np.ndarray, np.ndarray, KeptTail]] = {}


def _kept_tail(spec: FeatureSpec, profile: Profile | None, candidates: np.ndarray, item_block: np.ndarray) -> KeptTail:
    """The candidates' tail under the spec's own statistics, kept while `candidates` comes back."""
    if profile is None:
        found = _COLD_TAILS.get(id(candidates))
        if found is not None and found[0] is candidates and found[1] is item_block:
            return found[2]
        kept = KeptTail.of(_tail(spec, spec.stats, None, candidates, item_block))
        if len(_COLD_TAILS) >= 1024:  # arrays of models long gone; a fresh start is cheap
            _COLD_TAILS.clear()
        _COLD_TAILS[id(candidates)] = (candidates, item_block, kept)
        return kept
    seen = view(spec, profile)
    cached = seen.tail[0] if seen.tail else None
    if cached is not None and cached[0] is candidates:
        return cached[1]
    kept = KeptTail.of(_tail(spec, spec.stats, profile, candidates, item_block))
    seen.tail[:] = [(candidates, kept)]
    return kept
