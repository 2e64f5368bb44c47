"""Turn a Request into the flat, typed, bounded event the engine sees (and nothing else).

Only the fields the active rules reference are sent, under generated keys (`f0`, `f1`…), so
request-controlled names never reach the engine and the event stays far below its
253-property limit (docs/hazards.md#engine-malformed-events). A value of the wrong type, a
non-finite number, an over-long or non-UTF-8 string counts as missing. Numbers are clamped
to ±1e15 and rounded to 4 decimals: durable-rules rejects JSON numbers in exponent
notation (error 204), which Python emits below 1e-4 and from 1e16. Rule literals are
limited to ±1e12, so clamping never changes an outcome.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NamedTuple

from decision.conditions.fields import ATTRIBUTE_PREFIX, FieldType
from decision.domain import Request, Segment

Fact = str | float | bool
NOW_KEY = "now"
LIVE_KEY = "live"
MAX_STRING = 256
NUMBER_CLAMP = 1e15
_EXACT_BELOW = 2.0**30
#: The user's segment, looked up only when a referenced field needs it (it needs the profile).
UserSegment = Callable[[], Segment | None]
Getter = Callable[[Request, datetime, UserSegment], object]
Cleaner = Callable[[object], Fact | None]


class Slot(NamedTuple):
    """One referenced field: the event key it travels under, how to read it, how to clean it.

    Reader and cleaner are chosen once per ruleset, so building an event is a plain loop
    (that unpacks each slot as a tuple: cheaper than three attribute reads).
    """

    key: str
    read: Getter
    clean: Cleaner


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _no_segment() -> Segment | None:
    return None


#: For callers without a user (file tests without one, tools): `user.*` fields are then missing.
NO_SEGMENT: UserSegment = _no_segment


def _idle_minutes(request: Request, now: datetime, user: UserSegment) -> object:
    updated = request.cart.updated_at
    if updated is None:
        return None
    return (_aware(now) - _aware(updated)).total_seconds() / 60.0


def _client_hour(request: Request, now: datetime, user: UserSegment) -> object:
    moment = request.context.client_time
    return None if moment is None else float(moment.hour)


def _segment_field(name: str) -> Getter:
    """A getter for one field of the user's segment (None, i.e. missing, without one)."""

    def read(request: Request, now: datetime, user: UserSegment) -> object:
        segment = user()
        return None if segment is None else getattr(segment, name)

    return read


_GETTERS: dict[str, Getter] = {
    "placement": lambda r, n, u: r.placement,
    "context.region": lambda r, n, u: r.context.region,
    "context.device": lambda r, n, u: r.context.device,
    "context.channel": lambda r, n, u: r.context.channel,
    "context.locale": lambda r, n, u: r.context.locale,
    "context.client_hour": _client_hour,
    "cart.item_count": lambda r, n, u: r.cart.item_count,
    "cart.value": lambda r, n, u: r.cart.value,
    "cart.currency": lambda r, n, u: r.cart.currency,
    "cart.idle_minutes": _idle_minutes,
    "consent": lambda r, n, u: r.consent,
    "user.segment": _segment_field("name"),
    "user.rfm.recency": _segment_field("recency"),
    "user.rfm.frequency": _segment_field("frequency"),
    "user.rfm.monetary": _segment_field("monetary"),
}


def getter(field: str) -> Getter:
    """The function reading `field` from a request (attributes by key)."""
    if field.startswith(ATTRIBUTE_PREFIX):
        key = field[len(ATTRIBUTE_PREFIX) :]
        return lambda r, n, u: r.attributes.get(key)
    return _GETTERS[field]


def _clean_bool(value: object) -> Fact | None:
    return value if isinstance(value, bool) else None


def _clean_string(value: object) -> Fact | None:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_STRING:
        return None
    if not value.isascii():  # lone surrogates cannot be encoded: treat as missing
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return None
    return value


def _clean_number(value: object) -> Fact | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    number = max(-NUMBER_CLAMP, min(NUMBER_CLAMP, number))
    # round(x, 4) converts through decimal digits (slow on this path). Whole numbers need no rounding,
    # nor do numbers that already have at most 4 decimals (89.9, 19.99): x is then the double
    # nearest to k / 10^4, which round() would return. Below 2^30 a double is within 1e-7 of
    # its decimal, so that test cannot be fooled; tests/decision/tiers/rules/test_evaluation.py checks
    # the shortcut against round() itself.
    if number.is_integer() or (-_EXACT_BELOW < number < _EXACT_BELOW and round(number * 1e4) / 1e4 == number):
        return number + 0.0
    return round(number, 4) + 0.0


def _clean_present(value: object) -> Fact | None:
    return True if any(cleaner(value) is not None for cleaner in _BY_TYPE.values()) else None


_BY_TYPE: dict[FieldType, Cleaner] = {
    FieldType.BOOL: _clean_bool,
    FieldType.STRING: _clean_string,
    FieldType.NUMBER: _clean_number,
}


def cleaner(kind: FieldType | None) -> Cleaner:
    """The function giving the engine-safe form of a value of type `kind` (None = missing);
    chosen once per slot, not per request."""
    return _clean_present if kind is None else _BY_TYPE[kind]


def clean(value: object, kind: FieldType | None) -> Fact | None:
    """The engine-safe form of `value` for a field of type `kind`, or None (= missing)."""
    return cleaner(kind)(value)


def now_seconds(now: datetime) -> float:
    """Server time as whole epoch seconds (windows are whole seconds too)."""
    return float(math.floor(_aware(now).timestamp()))


def slot(key: str, field: str, kind: FieldType | None) -> Slot:
    """The slot sending `field` (of type `kind`; None = presence only) under `key`."""
    return Slot(key, getter(field), cleaner(kind))


def build(request: Request, now: datetime, slots: tuple[Slot, ...], user: UserSegment = NO_SEGMENT) -> dict[str, Fact]:
    """The event for one decision: typed facts for the used fields, plus now and a marker.

    `user` gives the user's segment; it is called only if a `user.*` field is used.
    """
    facts: dict[str, Fact] = {LIVE_KEY: True, NOW_KEY: now_seconds(now)}
    for key, read, clean in slots:
        value = clean(read(request, now, user))
        if value is not None:
            facts[key] = value
    return facts
