"""The YAML rule-file format as strict pydantic models (extra keys and wrong types refused).

Strict typing is deliberate: YAML 1.1 turns `NO` into a boolean and `1.10` into a float
(docs/hazards.md#yaml-coercion); in strict mode those never pass as strings. Conditions (`when`) are parsed by
`condition.py`, which knows the field registry and gives better messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
Version = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")]
Text = Annotated[str, StringConstraints(max_length=1000)]
Short = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Instant = Annotated[datetime, Strict(False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class WindowModel(_Strict):
    """When a rule is active: `from` inclusive, `until` exclusive, in `timezone` if naive."""

    from_: Instant | None = Field(default=None, alias="from")
    until: Instant | None = None
    timezone: Short | None = None


class ThenModel(_Strict):
    """What a rule decides: content ids in rank order, plus rendering parameters."""

    content: Annotated[list[Short], Field(min_length=1, max_length=20)]
    parameters: Annotated[dict[Short, Text], Field(max_length=20)] = {}


class RuleModel(_Strict):
    id: Id
    priority: Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
    description: Text | None = None
    placements: Annotated[list[Short], Field(min_length=1)] | None = None
    active: WindowModel | None = None
    when: Any = None
    then: ThenModel


class ContextModel(_Strict):
    region: str = ""
    device: str = ""
    channel: str = ""
    locale: str = ""
    client_time: Instant | None = None


class CartModel(_Strict):
    """`idle_minutes` is a test convenience: it sets `updated_at` to now minus that much."""

    item_count: int = 0
    value: float = 0.0
    currency: str = ""
    updated_at: Instant | None = None
    idle_minutes: float | None = None


class RequestModel(_Strict):
    placement: str
    user_id: str = "test-user"
    context: ContextModel = ContextModel()
    cart: CartModel = CartModel()
    attributes: dict[str, str | float | bool] = {}
    consent: bool = False


class ExpectModel(_Strict):
    """`rule: null` expects that no rule matches; omitted keys are not checked."""

    rule: Short | None = None
    content: list[Short] | None = None
    parameters: dict[str, str] | None = None


class CaseModel(_Strict):
    name: Short
    now: Instant | None = None
    request: RequestModel
    expect: ExpectModel


class RuleFileModel(_Strict):
    version: Version
    description: Text | None = None
    rules: list[RuleModel] = []
    tests: list[CaseModel] = []
