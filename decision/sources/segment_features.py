"""THE behavioural features segments are built on, each computed from a `Profile` and `now`.

Training computes them for every user of the event log, the service for a live profile; both
call the functions defined here, so a user's segment cannot drift between the two paths.
Every value is finite: ratios without a denominator are 0, and durations are clamped at 0
(a profile stamped a little after `now` by another host's clock is "just now", not negative).

The Profile holds no device or hour-of-day counts, so the device mix and late-night share
that playbooks segment on cannot be computed here; adding such counts to the Profile is
what would let them in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from decision.sources.features import Profile, epoch

_DAY = 86400.0


@dataclass(frozen=True, slots=True)
class BehaviourFeature:
    """One feature: `log1p` says whether it is skewed enough (counts, money, durations) to be
    compared on a log scale before standardization."""

    name: str
    description: str
    log1p: bool
    compute: Callable[[Profile, float], float]  # (profile, now in epoch seconds) -> value


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def _since(moment: int, profile: Profile, now: float) -> float:
    """Days from the profile's first (moment 0) or last (1) event to now, clamped at 0. Reads the
    epoch seconds Profile computes once at construction: converting the datetimes again would
    cost about 0.5 µs each on the serving path."""
    return max(0.0, now - profile._times[moment]) / _DAY


def _top_share(profile: Profile) -> float:
    views = profile.category_views
    return _ratio(max(views.values()), sum(views.values())) if views else 0.0


BEHAVIOUR_FEATURES: tuple[BehaviourFeature, ...] = (
    BehaviourFeature(
        "recency_days",
        "days from the last event to now",
        True,
        lambda p, now: _since(1, p, now),
    ),
    BehaviourFeature(
        "tenure_days",
        "days from the first event to now",
        True,
        lambda p, now: _since(0, p, now),
    ),
    BehaviourFeature("sessions", "number of sessions", True, lambda p, now: float(p.sessions)),
    BehaviourFeature("events", "number of events", True, lambda p, now: float(p.events)),
    BehaviourFeature("purchases", "number of purchases", True, lambda p, now: float(p.purchases)),
    BehaviourFeature("monetary", "sum of purchase values", True, lambda p, now: p.monetary),
    BehaviourFeature(
        "avg_order_value",
        "monetary / purchases; 0 without purchases",
        True,
        lambda p, now: _ratio(p.monetary, p.purchases),
    ),
    BehaviourFeature(
        "events_per_session",
        "events / sessions: how deep a visit goes",
        True,
        lambda p, now: _ratio(p.events, p.sessions),
    ),
    BehaviourFeature("click_rate", "clicks / views; 0 without views", False, lambda p, now: _ratio(p.clicks, p.views)),
    BehaviourFeature(
        "cart_rate", "add_to_cart / views; 0 without views", False, lambda p, now: _ratio(p.carts, p.views)
    ),
    BehaviourFeature(
        "purchase_rate",
        "purchases / sessions: per-visit conversion",
        False,
        lambda p, now: _ratio(p.purchases, p.sessions),
    ),
    BehaviourFeature(
        "top_category_share",
        "share of views in the user's most viewed category (1 = one-category user)",
        False,
        lambda p, now: _top_share(p),
    ),
)
BEHAVIOUR_BY_NAME: dict[str, BehaviourFeature] = {f.name: f for f in BEHAVIOUR_FEATURES}
BEHAVIOUR_NAMES: tuple[str, ...] = tuple(BEHAVIOUR_BY_NAME)

#: What RFM scores read: recency (days since the last event), frequency (sessions) and
#: monetary value (sum of purchases).
RFM_FEATURES: tuple[str, str, str] = ("recency_days", "sessions", "monetary")


def behaviour_values(profile: Profile, now: datetime, names: tuple[str, ...] = BEHAVIOUR_NAMES) -> list[float]:
    """The named features of one profile as of `now` (naive datetimes are UTC)."""
    now_s = epoch(now)
    return [BEHAVIOUR_BY_NAME[name].compute(profile, now_s) for name in names]
