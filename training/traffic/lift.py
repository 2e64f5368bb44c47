"""Planted lifts: a known relative change of one content's click probability, in one segment or all.

A spec reads `content=home-3,segment=loyal,lift=0.10`: the true click probability of
home-3 shown to a loyal user is multiplied by 1.10 (capped at 1). Without `segment` (or
with `segment=*`) the lift applies to every segment. The content may be any id, also one
the generator's catalog does not know (a rule's or a placement default's content).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from training.generate import SEGMENTS

ALL_SEGMENTS = "*"
_EXAMPLE = "content=home-3,segment=loyal,lift=0.10"


class LiftError(ValueError):
    """A lift spec that cannot be read; the message quotes it and shows the expected form."""


@dataclass(frozen=True)
class Lift:
    content_id: str
    segment: str  # a segment name, or ALL_SEGMENTS
    lift: float  # relative: 0.10 multiplies the click probability by 1.10


def parse_lift(spec: str) -> Lift:
    """One `content=...,segment=...,lift=...` spec (segment optional)."""
    fields: dict[str, str] = {}
    for part in spec.split(","):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise LiftError(f"lift {spec!r}: {part.strip()!r} is not key=value; expected e.g. {_EXAMPLE!r}")
        if key not in ("content", "segment", "lift") or key in fields:
            raise LiftError(f"lift {spec!r}: unexpected or repeated key {key!r}; use content, segment and lift once")
        fields[key] = value
    if "content" not in fields or "lift" not in fields:
        raise LiftError(f"lift {spec!r}: needs content= and lift=; expected e.g. {_EXAMPLE!r}")
    segment = fields.get("segment", ALL_SEGMENTS)
    if segment != ALL_SEGMENTS and segment not in SEGMENTS:
        raise LiftError(f"lift {spec!r}: unknown segment {segment!r}; use one of {', '.join(SEGMENTS)} or *")
    try:
        lift = float(fields["lift"])
    except ValueError:
        raise LiftError(f"lift {spec!r}: lift {fields['lift']!r} is not a number (0.10 = +10 %)") from None
    if not math.isfinite(lift) or lift <= -1.0:
        raise LiftError(f"lift {spec!r}: lift must be a finite number above -1 (0.10 = +10 %, -0.5 = half)")
    return Lift(fields["content"], segment, lift)


def lift_table(lifts: Iterable[Lift]) -> Mapping[tuple[str, str], float]:
    """(content, segment) -> multiplier; a (content, segment) planted twice is refused, as it is surely a typo."""
    table: dict[tuple[str, str], float] = {}
    for lift in lifts:
        segments = list(SEGMENTS) if lift.segment == ALL_SEGMENTS else [lift.segment]
        for segment in segments:
            if (lift.content_id, segment) in table:
                raise LiftError(f"lift on {lift.content_id} in segment {segment} is planted twice; plant it once")
            table[lift.content_id, segment] = 1.0 + lift.lift
    return table
