"""The feature definitions: every column's name, meaning and place, and their version.

A row is the user block, the context block (together SHARED: the same in every row of one
decision), the item block and the pair block, in that order; decision/sources/features.py
builds rows, decision/sources/pair_features.py the item and pair blocks.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import UTC, datetime

import numpy as np

from decision.sources.feature_spec import NEAR

#: A gap longer than this between two events starts a new session.
SESSION_GAP_SECONDS = 30 * 60
#: The window of "recent" item popularity.
RECENT_SECONDS = 7 * 86400
#: A profile keeps the content it engaged with last, up to this many ids (exclusion, co-engagement).
ENGAGED_LIMIT = 500
#: Events that engage with their content: what "consumed" and co-engagement count. Here, not in
#: training, because live profiles (decision/sources/live.py) must fold them exactly as the replay does.
ENGAGEMENTS = frozenset({"click", "add_to_cart", "purchase"})
#: co_engagement pools over the user's most recent this many spec contents.
CO_ENGAGED = 100

USER_FEATURES: tuple[tuple[str, str], ...] = (
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
    ("engaged_items", f"distinct content engaged with (clicks, carts, purchases; at most {ENGAGED_LIMIT})"),
    ("tenure_days", "days from the first event to now; NaN without history"),
    ("recency_hours", "hours from the last event to now; NaN without history"),
    ("days_since_purchase", "days from the last purchase to now; NaN without purchases"),
    ("in_session", "1 if the last event is less than the session gap before now, else 0"),
    ("session_events", "events in the current session; 0 when not in a session"),
)
CONTEXT_FEATURES: tuple[tuple[str, str], ...] = (
    ("hour", "hour of day of context.client_time if set, else of now"),
    ("day_of_week", "0 = Monday … 6 = Sunday, same clock as hour"),
    ("region", "code of context.region in the spec's regions"),
    ("device", "code of context.device in the spec's devices"),
    ("channel", "code of context.channel in the spec's channels"),
    ("placement", "code of the placement in the spec's placements"),
    ("cart_items", "items in the cart"),
    ("cart_value", "cart value"),
    ("cart_age_hours", "hours since cart.updated_at; NaN if unknown or the cart is empty"),
)
ITEM_FEATURES: tuple[tuple[str, str], ...] = (
    ("item", "code of the candidate in the spec's items (the catalog it was trained on)"),
    ("item_category", "code of the candidate's category in the spec's categories"),
    ("item_popularity", "share of the clicks on spec items before now that went to the candidate"),
    ("item_recent_popularity", f"the same share over the {RECENT_SECONDS // 86400} days before now; 0 without any"),
    ("item_trend", "item_recent_popularity / item_popularity; NaN before its first click"),
    ("item_order", "how many spec contents its users had engaged with before it, on average; NaN before any"),
)
PAIR_FEATURES: tuple[tuple[str, str], ...] = (
    ("item_clicks", "the user's clicks on the candidate"),
    ("item_is_last", "1 if the candidate is the content the user engaged with last, else 0"),
    ("category_share", "share of the user's events with a category that were in the candidate's category"),
    ("category_hours", "hours since the user's last event in the candidate's category; NaN if none"),
    (
        "co_engagement",
        "users who engaged with the candidate after content this user engaged with, per user who engaged "
        f"with that content (pooled over the user's last {CO_ENGAGED} contents); 0 without any",
    ),
    (
        "next_after_recent",
        "share of the first engagements right after one with the user's last three contents that were the candidate",
    ),
    (
        "near_recent",
        f"share of the pairs of first engagements at most {NEAR} apart (either order) with one of the user's "
        "last five contents that had the candidate as the other",
    ),
    ("order_gap", "spec contents (catalog and context) the user engaged with, minus item_order"),
    ("order_after_last", "item_order of the candidate minus item_order of the user's last content"),
)
DEFINITIONS = USER_FEATURES + CONTEXT_FEATURES + ITEM_FEATURES + PAIR_FEATURES

FEATURE_NAMES: tuple[str, ...] = tuple(name for name, _ in DEFINITIONS)
FEATURE_DESCRIPTIONS: Mapping[str, str] = dict(DEFINITIONS)
#: Features LightGBM should treat as categorical.
CATEGORICAL_FEATURES: tuple[str, ...] = ("region", "device", "channel", "placement", "item", "item_category")


def feature_set_version(definitions: object, *constants: object) -> str:
    """12 hex digits of sha256 over the definitions and everything they depend on."""
    return hashlib.sha256(repr((definitions, *constants)).encode()).hexdigest()[:12]


#: The version of these definitions (code); a model's spec has its own version for its data.
FEATURE_SET_VERSION: str = feature_set_version(
    DEFINITIONS, CATEGORICAL_FEATURES, SESSION_GAP_SECONDS, RECENT_SECONDS, ENGAGED_LIMIT, CO_ENGAGED, NEAR
)

N_FEATURES = len(FEATURE_NAMES)
COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}
USER_COLUMNS = len(USER_FEATURES)
#: Columns [0, SHARED) are the same in every row of one decision.
SHARED = USER_COLUMNS + len(CONTEXT_FEATURES)
TENURE, RECENCY, SINCE_PURCHASE = COLUMN["tenure_days"], COLUMN["recency_hours"], COLUMN["days_since_purchase"]
IN_SESSION, SESSION_EVENTS = COLUMN["in_session"], COLUMN["session_events"]
CONTEXT_START = COLUMN["hour"]  # the context block is contiguous, in CONTEXT_FEATURES order
CATEGORY_HOURS = COLUMN["category_hours"]
#: The item block follows SHARED: item, item_category, item_popularity, item_recent_popularity,
#: item_trend, item_order; the pair block follows it, in PAIR_FEATURES order, and ends the row
#: (pair_features.py writes both by position).
ITEM_COLUMNS = len(ITEM_FEATURES)
ORDER_GAP = COLUMN["order_gap"]
#: The pair block without a profile: item_clicks, item_is_last, category_share, category_hours,
#: co_engagement, next_after_recent, near_recent, order_gap (set per row), order_after_last
COLD_PAIR = np.array([0.0, 0.0, 0.0, math.nan, 0.0, 0.0, 0.0, math.nan, math.nan])


def epoch(moment: datetime) -> float:
    """Seconds since the epoch; a naive datetime is taken as UTC (never local time)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
