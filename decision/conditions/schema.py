"""Shared parts of the ops-file formats (rules, experiments) as strict pydantic models.

Strict typing is deliberate: YAML 1.1 turns `NO` into a boolean and `1.10` into a float
(docs/hazards.md#yaml-coercion); in strict mode those never pass as strings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

from decision.domain import Segment

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
Version = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")]
Text = Annotated[str, StringConstraints(max_length=1000)]
Short = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Instant = Annotated[datetime, Strict(False)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class WindowModel(StrictModel):
    """When a rule is active: `from` inclusive, `until` exclusive, in `timezone` if naive."""

    from_: Instant | None = Field(default=None, alias="from")
    until: Instant | None = None
    timezone: Short | None = None


class ContextModel(StrictModel):
    region: str = ""
    device: str = ""
    channel: str = ""
    locale: str = ""
    client_time: Instant | None = None


class CartModel(StrictModel):
    """`idle_minutes` is a test convenience: it sets `updated_at` to now minus that much."""

    item_count: int = 0
    value: float = 0.0
    currency: str = ""
    updated_at: Instant | None = None
    idle_minutes: float | None = None


class UserModel(StrictModel):
    """The user's segment and RFM scores, as the service's segment model would give them."""

    segment: str | None = None
    rfm: dict[Literal["recency", "frequency", "monetary"], Annotated[int, Field(ge=1, le=5)]] = Field(
        default_factory=dict
    )

    def as_segment(self) -> Segment | None:
        if self.segment is None:
            return None
        rfm = self.rfm
        return Segment(self.segment, rfm.get("recency", 0), rfm.get("frequency", 0), rfm.get("monetary", 0))


class RequestModel(StrictModel):
    placement: str
    user_id: str = "test-user"
    context: ContextModel = ContextModel()
    cart: CartModel = CartModel()
    attributes: dict[str, str | float | bool] = {}
    consent: bool = False
    user: UserModel | None = None
