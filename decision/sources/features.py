"""THE feature definitions, shared by training (point-in-time) and serving (hot path).

A feature vector is a user block computed from a `Profile` (per-user aggregates as of
some instant) followed by a context block computed from the `Request` and `now`.
Training builds a `Profile` from the events strictly before each decision time and calls
the same `vector()` the service calls, so the two paths cannot drift apart.

Missing values: with no profile (unknown user, or no personalization consent) the user
block holds its "no history" values: `has_history` = 0, counts and shares 0, and NaN for
quantities that have no value without history (recency, tenure, averages). LightGBM
treats NaN as missing. Categorical codes (`region`, `device`, `channel`, `placement`,
`last_content`) are small non-negative integers declared here; 0 means empty or unknown.

Only stdlib, numpy and decision.domain are imported: the serving image has no pandas.
"""

from __future__ import annotations

import ctypes
import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import numpy as np

from decision.domain import Request

#: A gap longer than this between two events starts a new session.
SESSION_GAP_SECONDS = 30 * 60

#: ISO 3166-1 alpha-2 codes, as the API sends them (one market each in the generator:
#: Europe, North America, Asia-Pacific, Latin America); other countries get code 0.
REGIONS = ("DE", "US", "JP", "BR")
DEVICES = ("mobile", "desktop", "tablet")
CHANNELS = ("web", "app", "email")
PLACEMENTS = ("home_banner", "cart_page", "product_page", "email")
CATEGORIES = ("electronics", "fashion", "home", "beauty", "sports", "books", "toys", "grocery")
#: Content ids the feature set tracks a per-content affinity for. Content outside this
#: vocabulary still counts in `clicks` and in `aff_other`; extending the vocabulary changes
#: FEATURE_SET_VERSION, so models must be retrained (they must be anyway: the catalog is
#: their class list).
CONTENT_VOCAB = tuple(f"{category}-{i}" for category in CATEGORIES for i in range(1, 6))

_USER_FEATURES: tuple[tuple[str, str], ...] = (
    ("has_history", "1 if the user has at least one event before the decision time, else 0"),
    ("events", "number of events before the decision time"),
    ("sessions", f"number of sessions (a gap > {SESSION_GAP_SECONDS} s starts a new one)"),
    ("views", "number of view events"),
    ("clicks", "number of click events"),
    ("carts", "number of add_to_cart events"),
    ("purchases", "number of purchase events"),
    ("monetary", "sum of purchase values"),
    ("avg_order_value", "monetary / purchases; NaN without purchases"),
    ("click_rate", "clicks / views; NaN without views"),
    ("tenure_days", "days from the first event to now; NaN without history"),
    ("recency_hours", "hours from the last event to now; NaN without history"),
    ("days_since_purchase", "days from the last purchase to now; NaN without purchases"),
    ("in_session", "1 if the last event is less than the session gap before now, else 0"),
    ("session_events", "events in the current session; 0 when not in a session"),
    ("last_content", "code of the last clicked content (1 + CONTENT_VOCAB index; 0 none/other)"),
)
_CONTEXT_FEATURES: tuple[tuple[str, str], ...] = (
    ("hour", "hour of day of context.client_time if set, else of now"),
    ("day_of_week", "0 = Monday … 6 = Sunday, same clock as hour"),
    ("region", "code of context.region (1 + REGIONS index; 0 empty/unknown)"),
    ("device", "code of context.device (1 + DEVICES index; 0 empty/unknown)"),
    ("channel", "code of context.channel (1 + CHANNELS index; 0 empty/unknown)"),
    ("placement", "code of the placement (1 + PLACEMENTS index; 0 unknown)"),
    ("cart_items", "items in the cart"),
    ("cart_value", "cart value"),
    ("cart_age_hours", "hours since cart.updated_at; NaN if unknown or the cart is empty"),
)
_AFFINITY_FEATURES: tuple[tuple[str, str], ...] = (
    *((f"aff_{c}", f"share of the user's clicks on content {c}") for c in CONTENT_VOCAB),
    ("aff_other", "share of the user's clicks on content outside CONTENT_VOCAB"),
    *((f"cat_{c}", f"share of the user's views in category {c}") for c in CATEGORIES),
    ("cat_other", "share of the user's views in other or missing categories"),
)
_DEFINITIONS = _USER_FEATURES + _AFFINITY_FEATURES + _CONTEXT_FEATURES

FEATURE_NAMES: tuple[str, ...] = tuple(name for name, _ in _DEFINITIONS)
FEATURE_DESCRIPTIONS: Mapping[str, str] = dict(_DEFINITIONS)
#: Features LightGBM should treat as categorical.
CATEGORICAL_FEATURES: tuple[str, ...] = ("last_content", "region", "device", "channel", "placement")


def feature_set_version(definitions: object, *vocabularies: object) -> str:
    """12 hex digits of sha256 over the definitions and everything they depend on."""
    return hashlib.sha256(repr((definitions, *vocabularies)).encode()).hexdigest()[:12]


_DEPENDS_ON = (
    REGIONS,
    DEVICES,
    CHANNELS,
    PLACEMENTS,
    CONTENT_VOCAB,
    CATEGORIES,
    CATEGORICAL_FEATURES,
    SESSION_GAP_SECONDS,
)
FEATURE_SET_VERSION: str = feature_set_version(_DEFINITIONS, *_DEPENDS_ON)

_N = len(FEATURE_NAMES)
_IX = {name: i for i, name in enumerate(FEATURE_NAMES)}
_N_USER = len(_USER_FEATURES)
_CONTENT_IX = {c: _IX[f"aff_{c}"] for c in CONTENT_VOCAB}
_CONTENT_OTHER = _IX["aff_other"]
_CATEGORY_IX = {c: _IX[f"cat_{c}"] for c in CATEGORIES}
_CATEGORY_OTHER = _IX["cat_other"]
_CONTENT_CODE = {c: i + 1 for i, c in enumerate(CONTENT_VOCAB)}
_REGION_CODE = {v: i + 1 for i, v in enumerate(REGIONS)}
_DEVICE_CODE = {v: i + 1 for i, v in enumerate(DEVICES)}
_CHANNEL_CODE = {v: i + 1 for i, v in enumerate(CHANNELS)}
_PLACEMENT_CODE = {v: i + 1 for i, v in enumerate(PLACEMENTS)}
_TENURE = _IX["tenure_days"]
_RECENCY = _IX["recency_hours"]
_SINCE_PURCHASE = _IX["days_since_purchase"]
_IN_SESSION = _IX["in_session"]
_SESSION_EVENTS = _IX["session_events"]
_CTX = _IX["hour"]  # the context block is contiguous, in _CONTEXT_FEATURES order


def epoch(moment: datetime) -> float:
    """Seconds since the epoch; a naive datetime is taken as UTC (never local time)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@dataclass(frozen=True, slots=True)
class Profile:
    """A user's aggregates over the events strictly before `as_of`.

    `user_id` holds the user key (decision.privacy) wherever profiles are stored. Built by
    training for every decision (point in time) and once at the end of the log
    for the snapshot the service reads. Treat the mappings as read-only.
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
    _row: bytes = field(init=False, repr=False, compare=False)
    _times: tuple[float, float, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Everything that does not depend on `now` is computed once here (a whole row of
        # float64s, the context slots zero), so a row is a copy of it plus a few stores.
        object.__setattr__(self, "_row", _user_block(self).tobytes())
        purchase = math.nan if self.last_purchase is None else epoch(self.last_purchase)
        object.__setattr__(self, "_times", (epoch(self.first_seen), epoch(self.last_seen), purchase))


def _share(total: int) -> float:
    return 1.0 / total if total else 0.0


def _user_block(p: Profile) -> np.ndarray:
    # Filled as a Python list and converted once: item by item into a numpy array cost ~1 µs
    # per slot, which made every live profile update several times its budget.
    block = [0.0] * _N
    block[:_N_USER] = (
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
        math.nan,
        math.nan,
        math.nan,
        0.0,
        0.0,
        _CONTENT_CODE.get(p.last_content, 0),
    )
    scale = _share(sum(p.content_clicks.values()))
    for content_id, count in p.content_clicks.items():
        block[_CONTENT_IX.get(content_id, _CONTENT_OTHER)] += count * scale
    scale = _share(sum(p.category_views.values()))
    for category, count in p.category_views.items():
        block[_CATEGORY_IX.get(category, _CATEGORY_OTHER)] += count * scale
    return np.array(block, dtype=np.float64)


def _cold_block() -> np.ndarray:
    block = np.zeros(_N, dtype=np.float64)
    block[[_IX["avg_order_value"], _IX["click_rate"], _TENURE, _RECENCY, _SINCE_PURCHASE]] = math.nan
    return block


_COLD_ROW = _cold_block().tobytes()
#: What single-row scorers hand out to be filled (their input buffer), and what fills it.
RowBuffer = ctypes.Array[ctypes.c_double]
RowWriter = Callable[[RowBuffer], None]


class _Slots(Protocol):
    """A numpy row or a RowBuffer: all `_fill` needs is item assignment."""

    def __setitem__(self, index: int, value: float, /) -> None: ...


def vector(profile: Profile | None, request: Request, now: datetime) -> np.ndarray:
    """The model input for one decision: float64, shape (len(FEATURE_NAMES),).

    `profile=None` gives the context-only cold-start vector. Never raises for odd
    context values: unknown categories map to code 0, naive datetimes are UTC.
    """
    out = np.frombuffer(_COLD_ROW if profile is None else profile._row, dtype=np.float64).copy()
    _fill(out, profile, request, now)
    return out


def write_row(row: RowBuffer, profile: Profile | None, request: Request, now: datetime) -> None:
    """Write what `vector` returns into `row`, with no numpy call.

    The serving path for one request: numpy's per-call machinery is cheap in a tight
    loop but cold between requests, where building the row through it cost much more
    inside the server (bench/README.md, "Design figures"). The base row is copied through a memoryview, not
    `ctypes.memmove`, which releases the GIL: a thread switch in the middle of a request.
    """
    if len(row) != _N:
        raise ValueError(f"a feature row has {_N} values, this buffer {len(row)}")
    memoryview(row).cast("B")[:] = _COLD_ROW if profile is None else profile._row
    _fill(row, profile, request, now)


def _fill(out: _Slots, profile: Profile | None, request: Request, now: datetime) -> None:
    """The slots that depend on `now` and on the request, over a copied base row."""
    now_s = epoch(now)
    if profile is not None:
        first, last, purchase = profile._times
        out[_TENURE] = (now_s - first) / 86400.0
        out[_RECENCY] = (now_s - last) / 3600.0
        out[_SINCE_PURCHASE] = (now_s - purchase) / 86400.0
        if now_s - last < SESSION_GAP_SECONDS:
            out[_IN_SESSION] = 1.0
            out[_SESSION_EVENTS] = profile.session_events
    ctx = request.context
    clock = ctx.client_time or now
    cart = request.cart
    # item by item: assigning a tuple to a slice costs more than the nine stores
    out[_CTX] = clock.hour
    out[_CTX + 1] = clock.weekday()
    out[_CTX + 2] = _REGION_CODE.get(ctx.region, 0)
    out[_CTX + 3] = _DEVICE_CODE.get(ctx.device, 0)
    out[_CTX + 4] = _CHANNEL_CODE.get(ctx.channel, 0)
    out[_CTX + 5] = _PLACEMENT_CODE.get(request.placement, 0)
    out[_CTX + 6] = cart.item_count
    out[_CTX + 7] = cart.value
    if cart.updated_at is not None and cart.item_count > 0:
        out[_CTX + 8] = (now_s - epoch(cart.updated_at)) / 3600.0
    else:
        out[_CTX + 8] = math.nan
