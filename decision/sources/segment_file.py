"""The segment model file: its JSON layout, and reading it with errors that name file and field.

Layout (format "decision-segments", format_version 1), written by training, read here:

    {"format", "format_version", "fingerprint", "as_of", "cold_segment",
     "features": {"names": [...], "log1p": [...], "means": [...], "scales": [...]},
     "centroids": [[one value per feature], one row per segment],
     "segments": [{"name", "size", "share", "rfm_mean": [r, f, m], "conversion_rate",
                   "buyer_share", "top_categories": [[category, share]...],
                   "traits": [[feature, z]...]}, one per centroid],
     "rfm": {"recency_edges": [4], "frequency_edges": [4], "monetary_edges": [4]},
     "discovery": {how the model was chosen: free-form, for people}}

Centroids live in the transformed space: log1p (where flagged), minus mean, over scale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

FORMAT = "decision-segments"
FORMAT_VERSION = 1
RFM_QUANTILES = 5  # scores 1..5, so 4 inner edges


class SegmentModelError(ValueError):
    """The segment model is missing or malformed; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class SegmentProfile:
    """Who is in a segment, for people and dashboards; the assigner never reads it."""

    name: str
    size: int
    share: float
    rfm_mean: tuple[float, float, float]
    conversion_rate: float  # purchases per session
    buyer_share: float  # share of users with at least one purchase
    top_categories: tuple[tuple[str, float], ...]  # (category, share of the segment's views)
    traits: tuple[tuple[str, float], ...]  # (feature, z of the segment mean vs the population)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "share": self.share,
            "rfm_mean": list(self.rfm_mean),
            "conversion_rate": self.conversion_rate,
            "buyer_share": self.buyer_share,
            "top_categories": [list(pair) for pair in self.top_categories],
            "traits": [list(pair) for pair in self.traits],
        }


class Fields:
    """Typed access to one JSON object; every failure names the source and the field path."""

    def __init__(self, source: str, obj: object, path: str = "") -> None:
        if not isinstance(obj, Mapping):
            raise self._error(source, path or "(top level)", "an object", obj)
        self.source, self.obj, self.path = source, obj, path

    def _at(self, key: str | int) -> str:
        return f"{self.path}[{key}]" if isinstance(key, int) else f"{self.path}.{key}" if self.path else key

    def get(self, key: str) -> object:
        if key not in self.obj:
            raise SegmentModelError(f"{self.source}: field '{self._at(key)}' is missing")
        return self.obj[key]

    def text(self, key: str) -> str:
        value = self.get(key)
        if not isinstance(value, str) or not value:
            raise self._error(self.source, self._at(key), "a non-empty string", value)
        return value

    def number(self, key: str) -> float:
        return self.as_number(self.get(key), self._at(key))

    def as_number(self, value: object, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self._error(self.source, where, "a finite number", value)
        return float(value)

    def integer(self, key: str) -> int:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self._error(self.source, self._at(key), "a non-negative integer", value)
        return value

    def items(self, key: str, length: int | None = None) -> list[object]:
        value = self.get(key)
        if not isinstance(value, list) or (length is not None and len(value) != length):
            expected = "a list" if length is None else f"a list of {length}"
            raise self._error(self.source, self._at(key), expected, value)
        return value

    def numbers(self, key: str, length: int | None = None) -> tuple[float, ...]:
        return self.as_numbers(self.get(key), self._at(key), length)

    def as_numbers(self, value: object, where: str, length: int | None = None) -> tuple[float, ...]:
        """`value` as a list of `length` finite numbers; `where` is its field path."""
        if not isinstance(value, list) or (length is not None and len(value) != length):
            raise self._error(self.source, where, "a list" if length is None else f"a list of {length} numbers", value)
        return tuple(self.as_number(v, f"{where}[{i}]") for i, v in enumerate(value))

    def child(self, key: str) -> Fields:
        return Fields(self.source, self.get(key), self._at(key))

    def children(self, key: str) -> list[Fields]:
        return [Fields(self.source, item, f"{self._at(key)}[{i}]") for i, item in enumerate(self.items(key))]

    def pairs(self, key: str) -> tuple[tuple[str, float], ...]:
        """A list of [label, number] pairs."""
        out = []
        for i, item in enumerate(self.items(key)):
            where = f"{self._at(key)}[{i}]"
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
                raise self._error(self.source, where, "a [label, number] pair", item)
            out.append((item[0], self.as_number(item[1], f"{where}[1]")))
        return tuple(out)

    @staticmethod
    def _error(source: str, where: str, expected: str, got: object) -> SegmentModelError:
        shown = repr(got)
        return SegmentModelError(
            f"{source}: field '{where}': expected {expected}, got {shown[:60]}{'…' if len(shown) > 60 else ''}"
        )


def read_profile(fields: Fields) -> SegmentProfile:
    r, f, m = fields.numbers("rfm_mean", 3)
    return SegmentProfile(
        name=fields.text("name"),
        size=fields.integer("size"),
        share=fields.number("share"),
        rfm_mean=(r, f, m),
        conversion_rate=fields.number("conversion_rate"),
        buyer_share=fields.number("buyer_share"),
        top_categories=fields.pairs("top_categories"),
        traits=fields.pairs("traits"),
    )


def read_edges(fields: Fields, key: str) -> tuple[float, ...]:
    edges = fields.numbers(key, RFM_QUANTILES - 1)
    if any(b < a for a, b in pairwise(edges)):
        raise SegmentModelError(f"{fields.source}: field 'rfm.{key}': edges must not decrease, got {list(edges)}")
    return edges
