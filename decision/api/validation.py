"""The request limits of the API contract, checked before anything is decided.

Every failure raises InvalidRequestError naming the field by its proto path,
so a caller can fix the request without reading our code.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection
from datetime import datetime, timedelta

from decision.domain import EVENT_TYPES, Event, Outcome, Request
from decision.errors import InvalidRequestError

MAX_ID_CHARS = 128
MAX_CONTEXT_CHARS = 64
MAX_ATTRIBUTES = 64
MAX_ATTRIBUTE_STRING_CHARS = 256
MAX_EXCLUDED = 1000
MAX_RESULTS = 50
MAX_CART_ITEMS = 100_000
MAX_BATCH = 1000
MAX_OUTCOME_VALUE = 1e9

_ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9_]{1,64}")


def validate(request: Request, placements: Collection[str]) -> None:
    """Raise InvalidRequestError for the first field that breaks a limit."""
    _require_id("user_id", request.user_id)
    if len(request.request_id) > MAX_ID_CHARS:
        raise InvalidRequestError("request_id", f"longer than {MAX_ID_CHARS} characters")
    if not request.placement:
        raise InvalidRequestError("placement", "required (e.g. 'home_banner')")
    if request.placement not in placements:
        known = ", ".join(sorted(placements))
        raise InvalidRequestError("placement", f"unknown placement (configured: {known})")
    _check_context(request)
    _check_cart(request)
    _check_attributes(request)
    if request.max_results < 0:
        raise InvalidRequestError("max_results", "must not be negative (0 = default)")
    if request.max_results > MAX_RESULTS:
        raise InvalidRequestError("max_results", f"at most {MAX_RESULTS}")
    if len(request.exclude_content_ids) > MAX_EXCLUDED:
        raise InvalidRequestError("exclude_content_ids", f"at most {MAX_EXCLUDED} ids")
    for content_id in request.exclude_content_ids:
        if len(content_id) > MAX_ID_CHARS:
            raise InvalidRequestError("exclude_content_ids", f"an id is longer than {MAX_ID_CHARS} characters")


def _require_id(field: str, value: str) -> None:
    if not value:
        raise InvalidRequestError(field, "required")
    if len(value) > MAX_ID_CHARS:
        raise InvalidRequestError(field, f"longer than {MAX_ID_CHARS} characters")


def _check_context(request: Request) -> None:
    context = request.context
    _check_region(context.region)
    for name in ("device", "channel", "locale"):
        if len(getattr(context, name)) > MAX_CONTEXT_CHARS:
            raise InvalidRequestError(f"context.{name}", f"longer than {MAX_CONTEXT_CHARS} characters")


def _check_region(region: str) -> None:
    if region and not (len(region) == 2 and region.isascii() and region.isalpha() and region.isupper()):
        raise InvalidRequestError("context.region", "must be an ISO 3166-1 alpha-2 code such as 'DE'")


def _check_cart(request: Request) -> None:
    cart = request.cart
    if not 0 <= cart.item_count <= MAX_CART_ITEMS:
        raise InvalidRequestError("cart.item_count", f"must be between 0 and {MAX_CART_ITEMS}")
    if not math.isfinite(cart.value) or cart.value < 0:
        raise InvalidRequestError("cart.value", "must be a finite number >= 0")
    if len(cart.currency) > 8:
        raise InvalidRequestError("cart.currency", "longer than 8 characters")


def _check_attributes(request: Request) -> None:
    if len(request.attributes) > MAX_ATTRIBUTES:
        raise InvalidRequestError("attributes", f"at most {MAX_ATTRIBUTES} entries")
    for key, value in request.attributes.items():
        if not _ATTRIBUTE_KEY.fullmatch(key):
            raise InvalidRequestError("attributes", "keys are 1-64 characters of [A-Za-z0-9_]")
        if isinstance(value, str) and len(value) > MAX_ATTRIBUTE_STRING_CHARS:
            raise InvalidRequestError(f"attributes.{key}", f"longer than {MAX_ATTRIBUTE_STRING_CHARS} characters")
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidRequestError(f"attributes.{key}", "must be a finite number")


def validate_outcome(outcome: Outcome, outcome_types: Collection[str]) -> None:
    """Raise InvalidRequestError for the first field of a reported outcome that breaks a limit."""
    _require_id("decision_id", outcome.decision_id)
    if not outcome.outcome_type:
        raise InvalidRequestError("outcome_type", f"required ({', '.join(outcome_types)})")
    if outcome.outcome_type not in outcome_types:
        close = difflib.get_close_matches(outcome.outcome_type[:64], outcome_types, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InvalidRequestError(
            "outcome_type",
            f"unknown type{hint}; accepted: {', '.join(outcome_types)} (declare others in outcome_types)",
        )
    if len(outcome.content_id) > MAX_ID_CHARS:
        raise InvalidRequestError("content_id", f"longer than {MAX_ID_CHARS} characters")
    if not outcome.content_id and outcome.outcome_type != "impression":
        raise InvalidRequestError("content_id", "required: which of the decision's items it concerns")
    if not math.isfinite(outcome.value) or not 0 <= outcome.value <= MAX_OUTCOME_VALUE:
        raise InvalidRequestError("value", f"must be a finite number between 0 and {MAX_OUTCOME_VALUE:g}")
    if len(outcome.user_id) > MAX_ID_CHARS:
        raise InvalidRequestError("user_id", f"longer than {MAX_ID_CHARS} characters")


#: How far ahead of the server's clock an event may claim to be (clients' clocks drift).
MAX_EVENT_SKEW = timedelta(minutes=5)


def validate_event(event: Event, now: datetime) -> None:
    """Raise InvalidRequestError for the first field of a recorded event that breaks a limit."""
    _require_id("user_id", event.user_id)
    if event.event_type not in EVENT_TYPES:
        close = difflib.get_close_matches(event.event_type[:64], EVENT_TYPES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InvalidRequestError("event_type", f"unknown type{hint}; one of {', '.join(EVENT_TYPES)}")
    if len(event.content_id) > MAX_ID_CHARS:
        raise InvalidRequestError("content_id", f"longer than {MAX_ID_CHARS} characters")
    if not event.content_id and event.event_type in ("click", "add_to_cart", "remove_from_cart"):
        raise InvalidRequestError("content_id", f"required for {event.event_type}")
    for name, value in (("category", event.category), ("placement", event.placement)):
        if len(value) > MAX_CONTEXT_CHARS:
            raise InvalidRequestError(name, f"longer than {MAX_CONTEXT_CHARS} characters")
    if not math.isfinite(event.value) or not 0 <= event.value <= MAX_OUTCOME_VALUE:
        raise InvalidRequestError("value", f"must be a finite number between 0 and {MAX_OUTCOME_VALUE:g}")
    if event.occurred_at > now + MAX_EVENT_SKEW:
        raise InvalidRequestError("occurred_at", "more than 5 minutes in the future (check the client's clock)")
    _check_region(event.region)
    for name, value in (("context.device", event.device), ("context.channel", event.channel)):
        if len(value) > MAX_CONTEXT_CHARS:
            raise InvalidRequestError(name, f"longer than {MAX_CONTEXT_CHARS} characters")


def validate_user_id(user_id: str) -> None:
    """The one field a Forget request has."""
    _require_id("user_id", user_id)
