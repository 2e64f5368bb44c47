"""The requests that test cases in ops files describe (rules and experiments share the format)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from decision.conditions.schema import RequestModel
from decision.domain import Cart, Context, Request

DEFAULT_NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def as_utc(moment: datetime) -> datetime:
    """Naive times in file tests and the CLI mean UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


def case_now(now: datetime | None) -> datetime:
    """The server time a case runs at (naive times are UTC; default 2026-01-15T12:00Z)."""
    return _utc(now) or DEFAULT_NOW


def to_request(raw: RequestModel, now: datetime, name: str) -> Request:
    """The domain Request a case describes; `cart.idle_minutes` sets `updated_at` from now."""
    updated = _utc(raw.cart.updated_at)
    if raw.cart.idle_minutes is not None:
        updated = now - timedelta(minutes=raw.cart.idle_minutes)
    ctx = raw.context
    return Request(
        user_id=raw.user_id,
        placement=raw.placement,
        request_id=f"case:{name}",
        context=Context(ctx.region, ctx.device, ctx.channel, ctx.locale, _utc(ctx.client_time)),
        cart=Cart(raw.cart.item_count, raw.cart.value, raw.cart.currency, updated),
        attributes=dict(raw.attributes),
        consent=raw.consent,
    )
