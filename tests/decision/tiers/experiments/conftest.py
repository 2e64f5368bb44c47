"""Helpers for experiment-tier tests: write experiment files and build request contexts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from decision.domain import Context, Request, Segment
from decision.pipeline.context import RequestContext, Sources
from decision.sources.features import Profile
from tests.fakes import FixedCatalog, FixedProfiles

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)


def write(folder: Path, text: str, name: str = "experiments.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


class FixedSegment:
    def __init__(self, name: str | None) -> None:
        self.segment = Segment(name) if name else None

    def assign(self, profile: Profile | None, now: datetime) -> Segment | None:
        return self.segment


def context(
    user: str = "u1",
    placement: str = "home_banner",
    region: str = "DE",
    consent: bool = True,
    segment: str | None = None,
    now: datetime = NOW,
    limit: int = 3,
    **fields: object,
) -> RequestContext:
    request = Request(user, placement, context=Context(region=region), consent=consent, **fields)  # type: ignore[arg-type]
    sources = Sources(FixedCatalog(), FixedProfiles(), FixedSegment(segment))
    return RequestContext(request, now, None, limit, sources)
