"""Active windows: `from` (inclusive) and `until` (exclusive), made time-zone aware."""

from __future__ import annotations

import difflib
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from decision.conditions.schema import WindowModel


class WindowError(ValueError):
    """A window that cannot be placed on the time line (message says how to fix it)."""


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise WindowError(f"unknown time zone '{name}'{hint}") from None


def _seconds(moment: datetime | None, zone: ZoneInfo | None, key: str) -> float | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        if zone is None:
            raise WindowError(f"'{key}' has no time zone: add an offset (e.g. +02:00 or Z) or 'timezone:'")
        moment = moment.replace(tzinfo=zone)
    if moment.microsecond:
        raise WindowError(f"'{key}' must be whole seconds")
    return moment.timestamp()


def bounds(window: WindowModel) -> tuple[float | None, float | None]:
    """Epoch seconds (from, until); raises WindowError for empty or ambiguous windows."""
    zone = _zone(window.timezone) if window.timezone else None
    if window.from_ is None and window.until is None:
        raise WindowError("'active' needs 'from', 'until' or both")
    start = _seconds(window.from_, zone, "from")
    end = _seconds(window.until, zone, "until")
    if start is not None and end is not None and end <= start:
        raise WindowError("active window ends before it starts ('until' <= 'from')")
    return start, end
