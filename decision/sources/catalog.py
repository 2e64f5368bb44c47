"""The content catalog the model ranks among, and who may be shown what, where and when.

Read from JSON (`{"items": [...]}` or a bare list) or CSV with the stdlib only. Every
problem names the file, the row and the field. Eligibility is precomputed per placement
and region, and per stretch of time between the dated items' window edges, so the hot
path does one dict lookup and one bisect, and returns the same set object every time
(its hash is computed once, which the model tier's caches rely on).
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from decision.sources.features import epoch

_LIST_FIELDS = ("placements", "regions")
_KNOWN_FIELDS = ("content_id", "category", *_LIST_FIELDS, "active_from", "active_until", "repeatable")
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


class CatalogSource(Protocol):
    """Where tiers get the catalog (a watched file in the service): None until one loads."""

    @property
    def current(self) -> Catalog | None: ...


class CatalogError(ValueError):
    """The catalog file cannot be used; the message names the file, row and field."""


@dataclass(frozen=True, slots=True)
class CatalogItem:
    """One piece of content. Empty `regions` = shown in every region; None dates = open.

    `repeatable`: may it be shown again to a user who already engaged with it (clicked,
    carted, bought)? Articles and movies: no; products: yes. None (not stated) lets training
    decide from the event log: content is repeatable unless users almost never come back
    to what they engaged with (training/spec.py).
    """

    content_id: str
    category: str
    placements: frozenset[str]
    regions: frozenset[str] = frozenset()
    active_from: datetime | None = None
    active_until: datetime | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    repeatable: bool | None = None


class _Slot:
    """The eligible ids of one (placement, region) over time.

    No item starts or ends between two consecutive window edges, so one set holds for the
    whole stretch: the stretch is found by bisecting the edges, and its set is built on its
    first lookup and kept: built for every stretch up front, a catalog of many dated items
    took minutes and hundreds of MiB, while stretches that are never asked for need nothing.
    """

    __slots__ = ("_built", "_dated", "_edges", "_undated")

    def __init__(self, fits: list[tuple[str, tuple[float, float] | None]]) -> None:
        """`fits`: (content id, window) of the items shown in this placement and region."""
        self._undated = frozenset(content_id for content_id, window in fits if window is None)
        self._dated = [(content_id, *window) for content_id, window in fits if window is not None]
        self._edges = sorted({edge for _, start, end in self._dated for edge in (start, end) if math.isfinite(edge)})
        self._built: dict[int, frozenset[str]] = {}

    def at(self, now: datetime) -> frozenset[str]:
        if not self._dated:
            return self._undated
        stretch = bisect.bisect_right(self._edges, epoch(now))
        found = self._built.get(stretch)
        if found is None:
            # Any moment of the stretch decides; its first one is an edge (or minus infinity).
            moment = self._edges[stretch - 1] if stretch else -math.inf
            active = [content_id for content_id, start, end in self._dated if start <= moment < end]
            found = self._built[stretch] = self._undated.union(active)  # two racing builds are equal
        return found


def _window(item: CatalogItem) -> tuple[float, float] | None:
    """[start, end) in epoch seconds, infinite where open; None for an item without dates."""
    if item.active_from is None and item.active_until is None:
        return None
    start = -math.inf if item.active_from is None else epoch(item.active_from)
    return start, math.inf if item.active_until is None else epoch(item.active_until)


class Catalog:
    """An immutable, validated catalog with fast eligibility lookups."""

    def __init__(self, items: Iterable[CatalogItem]) -> None:
        self.items: tuple[CatalogItem, ...] = tuple(items)
        self._by_id = {item.content_id: item for item in self.items}
        if len(self._by_id) != len(self.items):
            raise CatalogError("duplicate content_id in catalog")
        regions = sorted({r for item in self.items for r in item.regions})
        windows = [_window(item) for item in self.items]
        self._slots: dict[tuple[str, str], _Slot] = {}
        for placement in sorted({p for item in self.items for p in item.placements}):
            for region in (*regions, ""):
                fits = [
                    (item.content_id, window)
                    for item, window in zip(self.items, windows, strict=True)
                    if placement in item.placements and (not item.regions or region in item.regions)
                ]
                self._slots[placement, region] = _Slot(fits)

    @classmethod
    def load(cls, path: Path) -> Catalog:
        """Read and validate a catalog file (.json or .csv)."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogError(f"{path}: cannot read catalog ({exc.strerror})") from exc
        rows = _csv_rows(text) if path.suffix.lower() == ".csv" else _json_rows(path, text)
        items = [_item(path, i, row) for i, row in enumerate(rows, start=1)]
        if not items:
            raise CatalogError(f"{path}: the catalog has no items")
        seen: dict[str, int] = {}
        for i, item in enumerate(items, start=1):
            if item.content_id in seen:
                first = seen[item.content_id]
                raise CatalogError(f"{path}: row {i}: content_id {item.content_id!r} repeats row {first}")
            seen[item.content_id] = i
        return cls(items)

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, content_id: object) -> bool:
        return content_id in self._by_id

    def get(self, content_id: str) -> CatalogItem | None:
        return self._by_id.get(content_id)

    @property
    def content_ids(self) -> tuple[str, ...]:
        return tuple(item.content_id for item in self.items)

    def eligible(self, placement: str, region: str, now: datetime) -> frozenset[str]:
        """Content ids that may be shown in `placement` to a user in `region` at `now`.

        A region the catalog never names sees only unrestricted items.
        """
        slot = self._slots.get((placement, region)) or self._slots.get((placement, ""))
        if slot is None:
            return frozenset()
        return slot.at(now)

    def to_json(self) -> str:
        """The catalog as the JSON document `load` reads."""
        return json.dumps({"items": [_as_dict(item) for item in self.items]}, indent=2)


def _json_rows(path: Path, text: str) -> list[Any]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    rows = doc.get("items") if isinstance(doc, dict) else doc
    if not isinstance(rows, list):
        raise CatalogError(f"{path}: expected a list of items or {{'items': [...]}}")
    return rows


def _csv_rows(text: str) -> list[Any]:
    """CSV rows as dicts; list fields are '|'-separated, other columns become attributes."""
    rows: list[Any] = []
    for row in csv.DictReader(io.StringIO(text)):
        item: dict[str, Any] = {k: v for k, v in row.items() if k in _KNOWN_FIELDS and v}
        for name in _LIST_FIELDS:
            item[name] = [p for p in (row.get(name) or "").split("|") if p]
        item["attributes"] = {k: v for k, v in row.items() if k and k not in _KNOWN_FIELDS and v}
        rows.append(item)
    return rows


def _item(path: Path, row: int, raw: Any) -> CatalogItem:
    where = f"{path}: row {row}"
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: expected an object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - {*_KNOWN_FIELDS, "attributes"})
    if unknown:
        raise CatalogError(f"{where}: unknown field {unknown[0]!r} (known: {', '.join(_KNOWN_FIELDS)})")
    content_id = _text(where, raw, "content_id")
    where = f"{where} ({content_id})"
    placements = _texts(where, raw, "placements")
    if not placements:
        raise CatalogError(f"{where}: field 'placements': at least one placement is required")
    active_from = _when(where, raw, "active_from")
    active_until = _when(where, raw, "active_until")
    if active_from and active_until and active_until <= active_from:
        raise CatalogError(f"{where}: field 'active_until': must be after active_from")
    attributes = raw.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise CatalogError(f"{where}: field 'attributes': expected an object")
    return CatalogItem(
        content_id=content_id,
        category=_text(where, raw, "category"),
        placements=placements,
        regions=_texts(where, raw, "regions"),
        active_from=active_from,
        active_until=active_until,
        attributes={str(k): str(v) for k, v in attributes.items()},
        repeatable=_flag(where, raw, "repeatable"),
    )


def _flag(where: str, raw: dict[str, Any], name: str) -> bool | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOLEANS:
        return _BOOLEANS[value.strip().lower()]
    raise CatalogError(f"{where}: field {name!r}: expected true or false, got {value!r}")


def _text(where: str, raw: dict[str, Any], name: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}: field {name!r}: expected a non-empty string, got {value!r}")
    return value.strip()


def _texts(where: str, raw: dict[str, Any], name: str) -> frozenset[str]:
    value = raw.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CatalogError(f"{where}: field {name!r}: expected a list of strings, got {value!r}")
    return frozenset(value)


def _when(where: str, raw: dict[str, Any], name: str) -> datetime | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise CatalogError(f"{where}: field {name!r}: expected an ISO-8601 time, got {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _as_dict(item: CatalogItem) -> dict[str, Any]:
    return {
        "content_id": item.content_id,
        "category": item.category,
        "placements": sorted(item.placements),
        "regions": sorted(item.regions),
        "active_from": item.active_from.isoformat() if item.active_from else None,
        "active_until": item.active_until.isoformat() if item.active_until else None,
        "attributes": dict(item.attributes),
        "repeatable": item.repeatable,
    }
