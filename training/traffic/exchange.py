"""What the simulator and a decision server exchange, as plain values (the gRPC client converts).

The driver speaks only these types, so it runs against the real server (client.py) or a
fake in tests alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from training.traffic.moment import Moment
from training.traffic.population import SimUser


@dataclass(frozen=True)
class ShownItem:
    content_id: str
    probability: float  # with which the server chose it for its rank (the propensity)


@dataclass(frozen=True)
class Answer:
    """The part of a DecideResponse the simulator uses."""

    decision_id: str
    source: str  # RULE, MODEL, DEFAULT or OTHER
    tier: str
    items: tuple[ShownItem, ...]
    rule_id: str = ""
    model_version: str = ""
    details: Mapping[str, str] = field(default_factory=dict)
    decided_at: datetime | None = None
    experiment_id: str = ""  # the experiment and arm the decision was made in ("" if none)
    arm: str = ""
    arm_probability: float = 0.0  # the server's clock, which decides what the catalog allows


@dataclass(frozen=True)
class Refusal:
    """A batch entry the server did not decide (its DecideError)."""

    code: int
    message: str
    field: str


@dataclass(frozen=True)
class Ask:
    """One decision to ask for."""

    request_id: str
    user: SimUser
    moment: Moment
    max_results: int


@dataclass(frozen=True)
class OutcomeReport:
    """One ReportOutcome entry."""

    decision_id: str
    outcome_type: str  # impression, click or conversion
    content_id: str
    occurred_at: datetime
    idempotency_key: str
    value: float = 0.0
    user_id: str = ""  # sent only with consent, so the server can update the live profile
    consent: bool = False


@dataclass
class ReportTally:
    """Outcomes the server accepted, recognised as duplicates, or refused (with the first few reasons)."""

    accepted: int = 0
    duplicates: int = 0
    refused: int = 0
    reasons: list[str] = field(default_factory=list)


class DecisionApi(Protocol):
    """A decision server as the driver sees it."""

    def decide(self, asks: Sequence[Ask]) -> list[Answer | Refusal]:
        """One batch of decisions, answers in the order of `asks`."""
        ...

    def report(self, outcomes: Sequence[OutcomeReport]) -> None:
        """Send outcomes; may return before the server answers (see finish)."""
        ...

    def finish(self) -> ReportTally:
        """Wait for every report sent and return the tally of all of them."""
        ...
