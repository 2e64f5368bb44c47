"""The serving-side segment assigner: a profile in, its micro-segment and RFM scores out.

`training segments` discovers the segments offline (k-means over behavioural features) and
writes the model file (layout in decision/sources/segment_file.py). Here a profile's
features (decision/sources/segment_features.py, the functions training used) are
transformed the same way and the nearest centroid names the segment: the label k-means
gave the same user in training. Plain Python over a handful of numbers, where numpy's
per-call overhead would cost more than the arithmetic: about 4 µs a call with 3 segments
(bench/segments_bench.py).

A user without a profile (unknown, or no consent) gets COLD_SEGMENT and RFM scores (0, 0, 0).
"""

from __future__ import annotations

import hashlib
import json
import math
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from decision.domain import Segment
from decision.sources.features import Profile, epoch
from decision.sources.segment_features import BEHAVIOUR_BY_NAME, RFM_FEATURES
from decision.sources.segment_file import (
    FORMAT,
    FORMAT_VERSION,
    Fields,
    SegmentModelError,
    SegmentProfile,
    read_edges,
    read_profile,
)

#: The segment of a user with no profile: nothing is known to place them by.
COLD_SEGMENT = "unknown"
#: RFM scores are 1..5; 0 means "no history to score".
NO_RFM = (0, 0, 0)

__all__ = [
    "COLD_SEGMENT",
    "NO_RFM",
    "ModelSegments",
    "RfmEdges",
    "SegmentAssignment",
    "SegmentModel",
    "SegmentModelError",
]


@dataclass(frozen=True, slots=True)
class SegmentAssignment:
    segment: str
    rfm: tuple[int, int, int]  # (recency, frequency, monetary), each 1 (worst) .. 5 (best), or 0 = cold


@dataclass(frozen=True, slots=True)
class RfmEdges:
    """Quintile edges (4 each, non-decreasing) learned from the training users.

    Scores are 1 + the number of edges strictly below the value (5 - that for recency, where
    fewer days is better). A value equal to an edge scores with the values below it, so a block
    of tied values (say the many users who never bought: monetary 0) shares one score.
    """

    recency: tuple[float, ...]
    frequency: tuple[float, ...]
    monetary: tuple[float, ...]

    def scores(self, recency: float, frequency: float, monetary: float) -> tuple[int, int, int]:
        return (
            5 - bisect_left(self.recency, recency),
            1 + bisect_left(self.frequency, frequency),
            1 + bisect_left(self.monetary, monetary),
        )


@dataclass(frozen=True)
class SegmentModel:
    feature_names: tuple[str, ...]
    log1p: tuple[bool, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    centroids: tuple[tuple[float, ...], ...]  # one per segment, in the transformed space
    segments: tuple[SegmentProfile, ...]
    rfm: RfmEdges
    as_of: str = ""
    discovery: Mapping[str, Any] = field(default_factory=dict)
    cold_segment: str = COLD_SEGMENT
    _computes: tuple[Any, ...] = field(init=False, repr=False, compare=False)  # each needed feature once
    _steps: tuple[tuple[int, bool, float, float], ...] = field(init=False, repr=False, compare=False)
    _rfm_at: tuple[int, int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = [n for n in self.feature_names if n not in BEHAVIOUR_BY_NAME]
        if unknown:
            raise SegmentModelError(f"unknown feature(s) {unknown}; known: {', '.join(BEHAVIOUR_BY_NAME)}")
        n = len(self.feature_names)
        if not (len(self.log1p) == len(self.means) == len(self.scales) == n) or n == 0:
            raise SegmentModelError("features: names, log1p, means and scales must have the same non-zero length")
        if not self.centroids or any(len(c) != n for c in self.centroids):
            raise SegmentModelError(f"centroids: expected rows of {n} values, one per segment")
        if len(self.segments) != len(self.centroids):
            raise SegmentModelError(f"{len(self.segments)} segments for {len(self.centroids)} centroids")
        names = [s.name for s in self.segments]
        if len(set(names)) != len(names) or self.cold_segment in names:
            raise SegmentModelError(f"segment names must be unique and differ from {self.cold_segment!r}: {names}")
        if any(s <= 0 for s in self.scales):
            raise SegmentModelError(f"feature scales must be positive, got {list(self.scales)}")
        needed = list(dict.fromkeys((*self.feature_names, *RFM_FEATURES)))
        steps = tuple(
            (needed.index(name), flag, mean, scale)
            for name, flag, mean, scale in zip(self.feature_names, self.log1p, self.means, self.scales, strict=True)
        )
        r, f, m = (needed.index(n) for n in RFM_FEATURES)
        object.__setattr__(self, "_computes", tuple(BEHAVIOUR_BY_NAME[n].compute for n in needed))
        object.__setattr__(self, "_steps", steps)
        object.__setattr__(self, "_rfm_at", (r, f, m))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.segments)

    def transform(self, values: Sequence[float]) -> list[float]:
        """Raw feature values (in feature_names order) into the centroids' space."""
        if len(values) != len(self.feature_names):
            raise ValueError(f"expected {len(self.feature_names)} values ({', '.join(self.feature_names)})")
        steps = zip(values, self._steps, strict=True)
        return [((math.log1p(v) if flag else v) - mean) / scale for v, (_, flag, mean, scale) in steps]

    def nearest(self, point: Sequence[float]) -> int:
        """Index of the nearest centroid (Euclidean; the first one on a tie, as argmin). math.dist
        runs in C: a third of the time of the same loop in Python."""
        best, best_distance = 0, math.inf
        for i, centroid in enumerate(self.centroids):
            distance = math.dist(point, centroid)
            if distance < best_distance:
                best, best_distance = i, distance
        return best

    def label(self, values: Sequence[float]) -> str:
        """The segment of raw feature values (in feature_names order), for offline callers."""
        return self.segments[self.nearest(self.transform(values))].name

    def assign(self, profile: Profile | None, now: datetime) -> SegmentAssignment:
        """The profile's segment and RFM scores as of `now`; COLD_SEGMENT without a profile."""
        if profile is None:
            return SegmentAssignment(self.cold_segment, NO_RFM)
        now_s = epoch(now)
        raw = [compute(profile, now_s) for compute in self._computes]
        point = [((math.log1p(raw[i]) if flag else raw[i]) - mean) / scale for i, flag, mean, scale in self._steps]
        r, f, m = self._rfm_at
        return SegmentAssignment(self.segments[self.nearest(point)].name, self.rfm.scores(raw[r], raw[f], raw[m]))

    def fingerprint(self) -> str:
        """12 hex digits of sha256 over what decides an assignment (not the descriptive profiles)."""
        decisive = (self.feature_names, self.log1p, self.means, self.scales, self.centroids, self.names, self.rfm)
        return hashlib.sha256(repr(decisive).encode()).hexdigest()[:12]

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "fingerprint": self.fingerprint(),
                "as_of": self.as_of,
                "cold_segment": self.cold_segment,
                "features": {
                    "names": list(self.feature_names),
                    "log1p": list(self.log1p),
                    "means": list(self.means),
                    "scales": list(self.scales),
                },
                "centroids": [list(c) for c in self.centroids],
                "segments": [s.to_json() for s in self.segments],
                "rfm": {
                    "recency_edges": list(self.rfm.recency),
                    "frequency_edges": list(self.rfm.frequency),
                    "monetary_edges": list(self.rfm.monetary),
                },
                "discovery": dict(self.discovery),
            },
            indent=1,
        )

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> SegmentModel:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SegmentModelError(f"{path}: cannot read segment model ({exc.strerror})") from exc
        except UnicodeDecodeError as exc:
            raise SegmentModelError(f"{path}: not UTF-8 text: {exc.reason}") from exc
        return cls.from_json(text, str(path))

    @classmethod
    def from_json(cls, text: str, source: str = "<segment model>") -> SegmentModel:
        """Parse and check a model file; SegmentModelError names `source` and the bad field."""
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SegmentModelError(f"{source}: line {exc.lineno}, column {exc.colno}: not JSON: {exc.msg}") from exc
        top = Fields(source, raw)
        if top.get("format") != FORMAT or top.get("format_version") != FORMAT_VERSION:
            raise SegmentModelError(
                f"{source}: field 'format': expected {FORMAT!r} version {FORMAT_VERSION}, "
                f"got {top.get('format')!r} version {top.get('format_version')!r}; re-run `training segments`"
            )
        features = top.child("features")
        names = tuple(str(n) for n in features.items("names"))
        n = len(names)
        flags = features.items("log1p", n)
        if not all(isinstance(f, bool) for f in flags):
            raise SegmentModelError(f"{source}: field 'features.log1p': expected {n} booleans, got {flags}")
        rfm = top.child("rfm")
        try:
            model = cls(
                feature_names=names,
                log1p=tuple(bool(f) for f in flags),
                means=features.numbers("means", n),
                scales=features.numbers("scales", n),
                centroids=tuple(
                    top.as_numbers(row, f"centroids[{i}]", n) for i, row in enumerate(top.items("centroids"))
                ),
                segments=tuple(read_profile(f) for f in top.children("segments")),
                rfm=RfmEdges(
                    read_edges(rfm, "recency_edges"),
                    read_edges(rfm, "frequency_edges"),
                    read_edges(rfm, "monetary_edges"),
                ),
                as_of=top.text("as_of"),
                discovery=top.child("discovery").obj,
                cold_segment=top.text("cold_segment"),
            )
        except SegmentModelError as exc:
            if str(exc).startswith(source):
                raise
            raise SegmentModelError(f"{source}: {exc}") from None
        if top.get("fingerprint") != model.fingerprint():
            raise SegmentModelError(
                f"{source}: field 'fingerprint': {top.get('fingerprint')!r} does not match the content "
                f"({model.fingerprint()}); the file was edited after training"
            )
        return model


class CurrentModel(Protocol):
    """A swapped value holding the latest good segment model (a watched file in the service)."""

    @property
    def current(self) -> SegmentModel | None: ...


class ModelSegments:
    """The service's SegmentSource: the current segment model assigns each profile, at request
    time, so a profile a live event just changed is re-assigned at once; no model, no segment."""

    def __init__(self, model: CurrentModel) -> None:
        self._model = model

    def assign(self, profile: Profile | None, now: datetime) -> Segment | None:
        model = self._model.current
        if model is None:
            return None
        found = model.assign(profile, now)
        recency, frequency, monetary = found.rfm
        return Segment(found.segment, recency, frequency, monetary)
