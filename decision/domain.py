"""The vocabulary every module speaks: requests, decisions and where they came from.

Immutable records, not protobuf messages, so the core never imports gRPC and tests
can build requests by hand. They are NamedTuples rather than frozen dataclasses
because a decision builds about a dozen of them: a frozen dataclass sets each field
through `object.__setattr__` and costs several times as much to build, which showed
in the per-request figures (bench/README.md, "Design figures").
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import NamedTuple

AttributeValue = str | float | bool
#: The shared empty mappings of records without attributes or parameters (read-only).
NO_ATTRIBUTES: Mapping[str, AttributeValue] = MappingProxyType({})
NO_PARAMETERS: Mapping[str, str] = MappingProxyType({})


# IntEnum rather than Enum: Enum hashes through a Python-level __hash__, and these key a
# few dict lookups per decision; IntEnum hashes as int, in C.
class Source(enum.IntEnum):
    """Which tier decided (mirrors decision.v1.DecisionSource)."""

    RULE = 1
    MODEL = 2
    DEFAULT = 3
    EXPERIMENT = 4
    OTHER = 5


class FallbackReason(enum.IntEnum):
    """Why a tier did not decide (mirrors decision.v1.FallbackReason)."""

    NO_RULE_MATCHED = 1
    RULES_ERROR = 2
    NO_RULESET = 3
    NO_MODEL = 4
    MODEL_ERROR = 5
    DEADLINE = 6
    NO_ELIGIBLE_CONTENT = 7
    RULE_CONTENT_EXCLUDED = 8
    TIER_ERROR = 9
    NOT_APPLICABLE = 10
    NO_EXPERIMENT = 11
    EXPERIMENT_CONTROL = 12


class Context(NamedTuple):
    """What the caller knows about the moment; empty string = not sent."""

    region: str = ""
    device: str = ""
    channel: str = ""
    locale: str = ""
    client_time: datetime | None = None


class Cart(NamedTuple):
    """The cart as the caller sees it; `updated_at` None = unknown."""

    item_count: int = 0
    value: float = 0.0
    currency: str = ""
    updated_at: datetime | None = None


class Request(NamedTuple):
    """One decision to make, already converted from the wire format."""

    user_id: str
    placement: str
    request_id: str = ""
    context: Context = Context()
    cart: Cart = Cart()
    attributes: Mapping[str, AttributeValue] = NO_ATTRIBUTES
    max_results: int = 0
    exclude_content_ids: frozenset[str] = frozenset()
    consent: bool = False


class Segment(NamedTuple):
    """The behavioural segment a user belongs to, with RFM quintile scores (1-5, 5 = best)."""

    name: str
    recency: int = 0
    frequency: int = 0
    monetary: int = 0


class Item(NamedTuple):
    """One piece of content to show, with its rendering parameters.

    `probability` is the probability with which this item was chosen for its rank: 1.0 for
    a deterministic tier; exploring tiers (experiments, bandits) log their own, so any other
    policy can later be evaluated off-policy on the service's logs.
    """

    content_id: str
    score: float
    rank: int
    parameters: Mapping[str, str] = NO_PARAMETERS
    probability: float = 1.0


class Provenance(NamedTuple):
    """Everything needed to explain a decision from the response alone.

    `tier` is the configured name of the tier that decided; `details` carries what a tier
    added by configuration wants to say about its answer; the experiment fields name the
    experiment and arm the request was assigned to (arm_probability 0.0 when none).
    """

    ruleset_version: str = ""
    ruleset_hash: str = ""
    rule_id: str = ""
    model_name: str = ""
    model_version: str = ""
    fallback_reasons: tuple[FallbackReason, ...] = ()
    tier: str = ""
    details: Mapping[str, str] = NO_PARAMETERS
    experiment_id: str = ""
    experiment_version: str = ""
    experiment_hash: str = ""
    arm: str = ""
    arm_probability: float = 0.0


class Decision(NamedTuple):
    """The answer: ranked items, the deciding tier and its provenance."""

    decision_id: str
    request_id: str
    source: Source
    items: tuple[Item, ...]
    provenance: Provenance
    decided_at: datetime


#: Outcome types every server accepts; others must be declared (setting `outcome_types`).
BUILT_IN_OUTCOMES = ("impression", "click", "add_to_cart", "conversion")


class Outcome(NamedTuple):
    """What happened after a decision, as reported (validated, not yet matched to it).

    `idempotency_key` is never empty once validated: the caller's, or one derived from the
    decision, type and content. `user_id` is empty without consent and is never logged.
    """

    decision_id: str
    outcome_type: str
    content_id: str
    value: float
    occurred_at: datetime | None
    idempotency_key: str
    user_id: str = ""
    consent: bool = False


#: What RecordEvents accepts (the event log's types, so live and trained profiles agree).
EVENT_TYPES = ("view", "click", "add_to_cart", "remove_from_cart", "purchase")


class Event(NamedTuple):
    """Something a user did, as reported to RecordEvents (validated; `occurred_at` set)."""

    user_id: str
    event_type: str
    occurred_at: datetime
    content_id: str = ""
    category: str = ""
    value: float = 0.0
    region: str = ""
    device: str = ""
    channel: str = ""
    placement: str = ""
    consent: bool = False
