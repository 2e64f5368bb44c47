"""The per-user profile snapshot: written by training, read (only) by the service.

Format: JSON lines, UTF-8. Line 1 is a header
`{"format": "decision-profiles", "format_version": 2, "feature_set_version": …, "as_of": …,
"users": N}`; every further line is one `Profile` (times as ISO-8601, the two count maps as
objects), keyed by `user_key` (decision.privacy): the snapshot never holds a user id. JSON
lines keep the file greppable and readable with the stdlib alone; a snapshot
of 100k users loads in about a second.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from decision.sources.features import FEATURE_SET_VERSION, Profile

FORMAT = "decision-profiles"
FORMAT_VERSION = 2  # 2: keyed by user_key instead of user_id
_TIMES = ("as_of", "first_seen", "last_seen", "session_start")
_INTS = ("events", "sessions", "session_events", "views", "clicks", "carts", "purchases")


class ProfileSource(Protocol):
    """Where tiers get a user's profile: the training snapshot, later with live updates."""

    def get(self, user_id: str) -> Profile | None: ...


class CurrentSnapshot(Protocol):
    """A swapped value holding the latest good snapshot (a watched file in the service)."""

    @property
    def current(self) -> ProfileStore | None: ...


class SnapshotProfiles:
    """The snapshot training writes, as a ProfileSource; nobody is known until it loads.

    The snapshot is keyed by user key (decision.privacy), never by user id.
    """

    def __init__(self, snapshot: CurrentSnapshot, pseudonymize: Callable[[str], str]) -> None:
        self._snapshot = snapshot
        self._pseudonymize = pseudonymize

    def get(self, user_id: str) -> Profile | None:
        store = self._snapshot.current
        return store.get(self._pseudonymize(user_id)) if store is not None else None


class ProfileStoreError(ValueError):
    """The snapshot is missing or corrupt; the message names the file and line."""


class ProfileStore:
    """Read-only lookups of user profiles by pseudonymous user id."""

    def __init__(self, profiles: Iterable[Profile], *, as_of: datetime, feature_set_version: str) -> None:
        self._profiles = {p.user_id: p for p in profiles}
        self.as_of = as_of
        self.feature_set_version = feature_set_version

    @classmethod
    def load(cls, path: Path) -> ProfileStore:
        """Read a snapshot written by `write_snapshot`; raise ProfileStoreError if unusable."""
        try:
            with path.open(encoding="utf-8") as lines:
                header = _header(path, next(lines, ""))
                profiles = [_parse(path, n, line) for n, line in enumerate(lines, start=2)]
        except OSError as exc:
            raise ProfileStoreError(f"{path}: cannot read profile snapshot ({exc.strerror})") from exc
        except UnicodeDecodeError as exc:
            raise ProfileStoreError(f"{path}: not UTF-8 text: {exc.reason}") from exc
        if len(profiles) != header["users"]:
            raise ProfileStoreError(
                f"{path}: header promises {header['users']} users, file has {len(profiles)} (truncated?)"
            )
        return cls(
            profiles,
            as_of=datetime.fromisoformat(header["as_of"]),
            feature_set_version=str(header["feature_set_version"]),
        )

    def get(self, user_id: str) -> Profile | None:
        return self._profiles.get(user_id)

    def __len__(self) -> int:
        return len(self._profiles)

    def __iter__(self) -> Iterator[Profile]:
        return iter(self._profiles.values())


def write_snapshot(path: Path, profiles: Iterable[Profile], as_of: datetime) -> int:
    """Write profiles atomically (temp file + rename); return how many were written."""
    rows = [json.dumps(to_json(p), separators=(",", ":")) for p in profiles]
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "feature_set_version": FEATURE_SET_VERSION,
        "as_of": as_of.isoformat(),
        "users": len(rows),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.write(json.dumps(header) + "\n")
        for row in rows:
            out.write(row + "\n")
    os.replace(tmp, path)
    return len(rows)


def to_json(p: Profile) -> dict[str, Any]:
    """A profile as the JSON object of one snapshot line."""
    row: dict[str, Any] = {"user_key": p.user_id}
    row.update({name: getattr(p, name).isoformat() for name in _TIMES})
    row["last_purchase"] = p.last_purchase.isoformat() if p.last_purchase else None
    row.update({name: getattr(p, name) for name in _INTS})
    row["monetary"] = round(p.monetary, 6)
    row["last_content"] = p.last_content
    row["content_clicks"] = dict(p.content_clicks)
    row["category_views"] = dict(p.category_views)
    return row


def _header(path: Path, line: str) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ProfileStoreError(f"{path}: line 1: not a profile snapshot header ({FORMAT!r})")
    if header.get("format_version") != FORMAT_VERSION:
        raise ProfileStoreError(
            f"{path}: line 1: format_version {header.get('format_version')!r} is not "
            f"{FORMAT_VERSION}; rewrite the snapshot with this version's `training train`"
        )
    if not isinstance(header.get("users"), int) or not isinstance(header.get("as_of"), str):
        raise ProfileStoreError(f"{path}: line 1: header needs 'users' (int) and 'as_of'")
    return header


def _parse(path: Path, line_no: int, line: str) -> Profile:
    try:
        return from_json(json.loads(line))
    except json.JSONDecodeError as exc:
        raise ProfileStoreError(f"{path}: line {line_no}: not valid JSON ({exc.msg})") from exc
    except KeyError as exc:
        raise ProfileStoreError(f"{path}: line {line_no}: missing field {exc.args[0]!r}") from exc
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise ProfileStoreError(f"{path}: line {line_no}: bad value ({exc})") from exc


def from_json(row: dict[str, Any]) -> Profile:
    """A profile from the JSON object `to_json` writes; KeyError, TypeError or ValueError if it is not one."""
    last_purchase = row["last_purchase"]
    return Profile(
        user_id=_str(row["user_key"]),
        as_of=datetime.fromisoformat(row["as_of"]),
        first_seen=datetime.fromisoformat(row["first_seen"]),
        last_seen=datetime.fromisoformat(row["last_seen"]),
        session_start=datetime.fromisoformat(row["session_start"]),
        last_purchase=datetime.fromisoformat(last_purchase) if last_purchase else None,
        events=_int(row["events"]),
        sessions=_int(row["sessions"]),
        session_events=_int(row["session_events"]),
        views=_int(row["views"]),
        clicks=_int(row["clicks"]),
        carts=_int(row["carts"]),
        purchases=_int(row["purchases"]),
        monetary=_money(row["monetary"]),
        last_content=_str(row["last_content"]),
        content_clicks=_counts(row["content_clicks"]),
        category_views=_counts(row["category_views"]),
    )


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError(f"expected a non-negative integer, got {value!r}")
    return value


def _money(value: Any) -> float:
    # Python's json reads Infinity, NaN and integers too big for a float: refuse them here,
    # so no feature vector holds an infinity.
    if not isinstance(value, bool) and isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if 0 <= number < math.inf:
            return number
    raise TypeError(f"expected a finite non-negative number, got {str(value)[:40]}")


def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object of counts, got {type(value).__name__}")
    return {_str(k): _int(v) for k, v in value.items()}
