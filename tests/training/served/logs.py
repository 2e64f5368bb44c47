"""Hand-built decision and outcome log lines, in the service's format, for known-answer tests."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

#: The decision time of most hand-built decisions.
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def at(minutes: float = 0.0, seconds: float = 0.0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def decision(
    decision_id: str,
    items: Sequence[str] = ("c1",),
    time: datetime = T0,
    consent: bool = True,
    user_key: str = "k-user",
    probabilities: Sequence[float] | None = None,
    **fields: object,
) -> dict[str, object]:
    """A decision record as `record_for` writes it; `fields` add or replace top-level fields."""
    record: dict[str, object] = {
        "decision_id": decision_id,
        "request_id": f"r-{decision_id}",
        "time": time.isoformat(),
        "placement": "home_banner",
        "context": {"region": "DE", "device": "mobile", "channel": "web"},
        "consent": consent,
        "source": "MODEL",
        "tier": "model",
        "items": [
            {
                "content_id": content,
                "score": 1.0 / rank,
                "rank": rank,
                "probability": 1.0 if probabilities is None else probabilities[rank - 1],
            }
            for rank, content in enumerate(items, start=1)
        ],
        "fallback_reasons": ["NO_RULE_MATCHED"],
        "model_name": "nbc",
        "model_version": "3",
        "eligible": 12,
    }
    if consent:
        record["user_key"] = user_key
    record.update(fields)
    return record


def outcome(
    decision_id: str,
    kind: str = "click",
    content_id: str = "c1",
    value: float = 0.0,
    occurred_at: datetime | None = None,
    received_at: datetime | None = None,
    key: str | None = None,
) -> dict[str, object]:
    """An outcome record as `encode_outcome` writes it (the key derived as the server does when None)."""
    return {
        "decision_id": decision_id,
        "type": kind,
        "content_id": content_id,
        "value": value,
        "occurred_at": occurred_at.isoformat() if occurred_at else None,
        "received_at": (received_at or occurred_at or T0).isoformat(),
        "idempotency_key": key or f"{decision_id}|{kind}|{content_id}",
    }


def write_lines(path: Path, records: Iterable[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records), encoding="utf-8")
    return path
