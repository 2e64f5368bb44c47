"""The feature spec: the vocabularies and item statistics a model's rows are built from.

Training learns it from the event log and the catalog (training/spec.py): the content
vocabulary is the catalog, the category, region, device, channel and placement vocabularies
are the values seen often enough in the training data (rarer ones share code 0, "other"),
each item says whether it may be shown again once a user engaged with it, and `ItemStats`
holds the item popularity and co-engagement counts as of the end of the log. The spec is
logged with the model (`extra_files/feature_spec.json` in the MLflow model, its `version` in
the model's metadata), the profile snapshot names the version it was written for, and the
service builds every row from the spec of the model it serves.

Only stdlib and numpy: the serving image reads it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "decision-feature-spec"
FORMAT_VERSION = 1
#: How many first engagements before or after a content count as "near" it.
NEAR = 10
#: The default number of candidates one decision ranks (decision/sources/candidates.py).
CANDIDATE_LIMIT = 100
#: Where the spec sits inside a logged model's folder.
SPEC_FILE = "extra_files/feature_spec.json"


class FeatureSpecError(ValueError):
    """A spec file cannot be used; the message names the file and the field."""


class ItemStats:
    """Item popularity and co-engagement counts, as of some moment.

    Training updates one instance event by event (point in time); the spec holds one frozen
    as of the end of the log. Per catalog item (n): `clicks`, `recent` (clicks in the recent
    window), `first_click` (epoch seconds, NaN before any). Per antecedent (A: the catalog
    items, then the spec's other content), counting each user's first engagement with each
    content only: `engaged_users`; `order_sum`, the catalog items its users had engaged with
    before it, summed; `successors`, how often another first engagement came right after it.
    Per antecedent and catalog item (A x n): `follows[a, b]` users who engaged with `b` after
    `a`; `next[a, b]` first engagements with `b` that came right after one with `a`;
    `near[a, b]` users whose first engagements with `a` and `b` were at most NEAR first
    engagements apart (either order), and `near_out[a]` such pairs of `a` with anything.
    """

    __slots__ = (
        "clicks",
        "clicks_total",
        "engaged_users",
        "first_click",
        "follows",
        "near",
        "near_out",
        "next",
        "order_sum",
        "recent",
        "recent_total",
        "successors",
    )

    def __init__(self, n_items: int, n_antecedents: int | None = None) -> None:
        a = n_items if n_antecedents is None else n_antecedents
        self.clicks = np.zeros(n_items, dtype=np.float64)
        self.recent = np.zeros(n_items, dtype=np.float64)
        self.first_click = np.full(n_items, np.nan)
        self.engaged_users = np.zeros(a, dtype=np.float64)
        self.order_sum = np.zeros(a, dtype=np.float64)
        self.successors = np.zeros(a, dtype=np.float64)
        self.near_out = np.zeros(a, dtype=np.float64)
        self.near = np.zeros((a, n_items), dtype=np.float32)
        self.follows = np.zeros((a, n_items), dtype=np.float32)
        self.next = np.zeros((a, n_items), dtype=np.float32)
        self.clicks_total = 0.0
        self.recent_total = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "clicks": self.clicks.tolist(),
            "recent": self.recent.tolist(),
            "first_click": [None if np.isnan(t) else float(t) for t in self.first_click],
            "engaged_users": self.engaged_users.tolist(),
            "order_sum": self.order_sum.tolist(),
            "successors": self.successors.tolist(),
            "near_out": self.near_out.tolist(),
            "near": _sparse(self.near),
            "follows": _sparse(self.follows),
            "next": _sparse(self.next),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], n_items: int, n_antecedents: int) -> ItemStats:
        stats = cls(n_items, n_antecedents)
        sizes = {"clicks": n_items, "recent": n_items}
        sizes.update(dict.fromkeys(("engaged_users", "order_sum", "successors", "near_out"), n_antecedents))
        for name, size in sizes.items():
            values = np.asarray(raw[name], dtype=np.float64)
            if values.shape != (size,) or not np.isfinite(values).all() or (values < 0).any():
                raise ValueError(f"stats.{name}: expected {size} finite counts >= 0")
            setattr(stats, name, values)
        first = np.array([np.nan if t is None else t for t in raw["first_click"]], dtype=np.float64)
        if first.shape != (n_items,) or np.isinf(first).any():
            raise ValueError(f"stats.first_click: expected {n_items} epoch seconds or nulls")
        stats.first_click = first
        for name in ("follows", "next", "near"):
            _dense(raw[name], getattr(stats, name), name)
        stats.clicks_total = float(stats.clicks.sum())
        stats.recent_total = float(stats.recent.sum())
        return stats


@dataclass(frozen=True)
class FeatureSpec:
    """Vocabularies (code = 1 + index; 0 = other/unknown) and per-item attributes and stats."""

    items: tuple[str, ...]
    item_categories: tuple[str, ...]  # each item's category as the catalog names it
    repeatable: tuple[bool, ...]  # may the item be shown again once the user engaged with it
    categories: tuple[str, ...]
    regions: tuple[str, ...]
    devices: tuple[str, ...]
    channels: tuple[str, ...]
    placements: tuple[str, ...]
    stats: ItemStats = field(compare=False, repr=False)
    #: other content frequent enough to say what a user's history predicts (antecedents only)
    context_items: tuple[str, ...] = ()
    #: how many candidates one decision ranks at most
    candidate_limit: int = CANDIDATE_LIMIT
    as_of: str = ""  # when the stats were taken (ISO-8601)
    #: identifies this spec: vocabularies, flags and statistics
    version: str = field(init=False)
    #: what a row's codes mean: the vocabularies only. Two specs with one layout build rows a
    #: model reads alike (a retrain on newer data of the same catalog keeps it).
    layout: str = field(init=False)
    item_index: Mapping[str, int] = field(init=False, repr=False, compare=False)
    antecedent_index: Mapping[str, int] = field(init=False, repr=False, compare=False)
    category_code: Mapping[str, int] = field(init=False, repr=False, compare=False)
    #: value -> code of the request's context vocabularies (regions, devices, channels, placements)
    context_codes: tuple[Mapping[str, int], ...] = field(init=False, repr=False, compare=False)
    item_category_codes: np.ndarray = field(init=False, repr=False, compare=False)
    not_repeatable: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.items)
        if not n or len(set(self.items)) != n:
            raise ValueError("items: expected a non-empty list of distinct content ids")
        if len(self.item_categories) != n or len(self.repeatable) != n:
            raise ValueError("item_categories and repeatable need one entry per item")
        antecedents = (*self.items, *self.context_items)
        if len(set(antecedents)) != len(antecedents):
            raise ValueError("context_items: expected content ids that are not catalog items, each once")
        if self.stats.clicks.shape != (n,) or self.stats.follows.shape != (len(antecedents), n):
            raise ValueError(f"stats are shaped for {self.stats.follows.shape}, the spec for {(len(antecedents), n)}")
        set_ = object.__setattr__
        set_(self, "item_index", {c: i for i, c in enumerate(self.items)})
        set_(self, "antecedent_index", {c: i for i, c in enumerate(antecedents)})
        set_(self, "category_code", codes(self.categories))
        set_(
            self, "context_codes", tuple(codes(v) for v in (self.regions, self.devices, self.channels, self.placements))
        )
        set_(self, "item_category_codes", np.array([self.category_code.get(c, 0) for c in self.item_categories]))
        set_(self, "not_repeatable", frozenset(i for i, ok in enumerate(self.repeatable) if not ok))
        set_(self, "version", _digest(self.to_text()))
        vocabularies = (self.items, self.item_categories, self.categories, self.regions, self.devices)
        set_(self, "layout", _digest(repr((*vocabularies, self.channels, self.placements))))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "as_of": self.as_of,
            "items": [
                {"content_id": c, "category": k, "repeatable": r}
                for c, k, r in zip(self.items, self.item_categories, self.repeatable, strict=True)
            ],
            "context_items": list(self.context_items),
            "candidate_limit": self.candidate_limit,
            "categories": list(self.categories),
            "regions": list(self.regions),
            "devices": list(self.devices),
            "channels": list(self.channels),
            "placements": list(self.placements),
            "stats": self.stats.to_json(),
        }

    def to_text(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {**self.to_json(), "version": self.version}
        path.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> FeatureSpec:
        """Read a spec written by `save`; FeatureSpecError names the file and what is wrong."""
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FeatureSpecError(f"{path}: cannot read the feature spec ({type(exc).__name__})") from exc
        return cls.from_json(doc, str(path))

    @classmethod
    def from_json(cls, doc: Any, where: str = "feature spec") -> FeatureSpec:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise FeatureSpecError(f"{where}: not a feature spec (format {FORMAT!r})")
        if doc.get("format_version") != FORMAT_VERSION:
            raise FeatureSpecError(f"{where}: format_version {doc.get('format_version')!r}, expected {FORMAT_VERSION}")
        try:
            items = doc["items"]
            context = _texts(doc["context_items"])
            spec = cls(
                items=tuple(str(i["content_id"]) for i in items),
                item_categories=tuple(str(i["category"]) for i in items),
                repeatable=tuple(bool(i["repeatable"]) for i in items),
                stats=ItemStats.from_json(doc["stats"], len(items), len(items) + len(context)),
                context_items=context,
                candidate_limit=_positive(doc["candidate_limit"]),
                as_of=str(doc.get("as_of", "")),
                **{name: _texts(doc[name]) for name in ("categories", "regions", "devices", "channels", "placements")},
            )
        except KeyError as exc:
            raise FeatureSpecError(f"{where}: missing field {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise FeatureSpecError(f"{where}: {exc}") from None
        if "version" in doc and doc["version"] != spec.version:
            raise FeatureSpecError(f"{where}: content does not match its version {doc['version']!r} (edited?)")
        return spec


def _sparse(matrix: np.ndarray) -> list[list[int]]:
    a, b = np.nonzero(matrix)
    return [a.tolist(), b.tolist(), matrix[a, b].astype(np.int64).tolist()]


def _dense(raw: Any, into: np.ndarray, name: str) -> None:
    a, b, counts = (np.asarray(part, dtype=np.int64) for part in raw)
    n = into.shape[0]
    if not a.shape == b.shape == counts.shape or (a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n)):
        raise ValueError(f"stats.{name}: expected [rows, columns, counts] of item indices")
    into[a, b] = counts


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def codes(vocabulary: Sequence[str]) -> dict[str, int]:
    """Value -> code: 1 + its index; anything else maps to 0 with `.get(value, 0)`."""
    return {value: i + 1 for i, value in enumerate(vocabulary)}


def _positive(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TypeError(f"candidate_limit: expected a positive integer, got {value!r}")
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("expected a list of strings")
    return tuple(value)
