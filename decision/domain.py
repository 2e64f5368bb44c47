"""The vocabulary every module speaks: requests, decisions and where they came from.

Frozen dataclasses, not protobuf messages, so the core never imports gRPC and
tests can build requests by hand.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

AttributeValue = str | float | bool


class Source(enum.Enum):
    """Which tier decided (mirrors decision.v1.DecisionSource)."""

    RULE = 1
    MODEL = 2
    DEFAULT = 3


class FallbackReason(enum.Enum):
    """Why a tier did not decide (mirrors decision.v1.FallbackReason)."""

    NO_RULE_MATCHED = 1
    RULES_ERROR = 2
    NO_RULESET = 3
    NO_MODEL = 4
    MODEL_ERROR = 5
    DEADLINE = 6
    NO_ELIGIBLE_CONTENT = 7
    RULE_CONTENT_EXCLUDED = 8


@dataclass(frozen=True, slots=True)
class Context:
    """What the caller knows about the moment; empty string = not sent."""

    region: str = ""
    device: str = ""
    channel: str = ""
    locale: str = ""
    client_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class Cart:
    """The cart as the caller sees it; `updated_at` None = unknown."""

    item_count: int = 0
    value: float = 0.0
    currency: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """One decision to make, already converted from the wire format."""

    user_id: str
    placement: str
    request_id: str = ""
    context: Context = field(default_factory=Context)
    cart: Cart = field(default_factory=Cart)
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    max_results: int = 0
    exclude_content_ids: frozenset[str] = frozenset()
    consent: bool = False


@dataclass(frozen=True, slots=True)
class Item:
    """One piece of content to show, with its rendering parameters."""

    content_id: str
    score: float
    rank: int
    parameters: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Provenance:
    """Everything needed to explain a decision from the response alone."""

    ruleset_version: str = ""
    ruleset_hash: str = ""
    rule_id: str = ""
    model_name: str = ""
    model_version: str = ""
    fallback_reasons: tuple[FallbackReason, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer: ranked items, the deciding tier and its provenance."""

    decision_id: str
    request_id: str
    source: Source
    items: tuple[Item, ...]
    provenance: Provenance
    decided_at: datetime
