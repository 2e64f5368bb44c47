"""The YAML rule-file format as strict pydantic models (extra keys and wrong types refused).

The shared parts (requests in test cases, windows, ids) are decision.conditions.schema's.
Conditions (`when`) are parsed by decision.conditions.condition, which knows the field
registry and gives better messages.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from decision.conditions.schema import Id, Instant, RequestModel, Short, StrictModel, Text, Version, WindowModel


class ThenModel(StrictModel):
    """What a rule decides: content ids in rank order, plus rendering parameters."""

    content: Annotated[list[Short], Field(min_length=1, max_length=20)]
    parameters: Annotated[dict[Short, Text], Field(max_length=20, default_factory=dict)]


class RuleModel(StrictModel):
    id: Id
    priority: Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
    description: Text | None = None
    placements: Annotated[list[Short], Field(min_length=1)] | None = None
    active: WindowModel | None = None
    when: Any = None
    then: ThenModel


class ExpectModel(StrictModel):
    """`rule: null` expects that no rule matches; omitted keys are not checked."""

    rule: Short | None = None
    content: list[Short] | None = None
    parameters: dict[str, str] | None = None


class CaseModel(StrictModel):
    name: Short
    now: Instant | None = None
    request: RequestModel
    expect: ExpectModel


class RuleFileModel(StrictModel):
    version: Version
    description: Text | None = None
    rules: list[RuleModel] = Field(default_factory=list)
    tests: list[CaseModel] = Field(default_factory=list)
