"""The YAML experiment-file format as strict pydantic models (extra keys and wrong types refused).

One file (or folder) is one versioned experiment set. Each experiment says whom it targets
(placements, regions, segments, and any condition of the rules' language), how much of them
(coverage, a namespace range shared with mutually exclusive experiments), when (an active
window), what it compares (arms, or factors of a multivariate design), how traffic is
allocated among arms (fixed weights, or a bandit), and how it is judged (primary metric,
guardrails, planned minimum detectable effect). The file carries its own test cases.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from decision.conditions.schema import Id, Instant, RequestModel, Short, StrictModel, Text, Version, WindowModel

Metric = Literal["click", "conversion", "revenue"]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class ArmModel(StrictModel):
    """One arm: fixed content (with rendering parameters), a model alias, or control (pass through)."""

    id: Id
    weight: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    control: bool = False
    content: Annotated[list[Short], Field(min_length=1, max_length=20)] | None = None
    parameters: Annotated[dict[Short, Text], Field(max_length=20, default_factory=dict)]
    model: Short | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ArmModel:
        kinds = [self.control, self.content is not None, self.model is not None]
        if sum(kinds) != 1:
            raise ValueError(f"arm '{self.id}': give exactly one of control: true, content: [...] or model: <alias>")
        if self.parameters and self.content is None:
            raise ValueError(f"arm '{self.id}': parameters go with content")
        return self


class FactorialModel(StrictModel):
    """A multivariate design: every user gets one level of each factor, shown with `content`."""

    factors: Annotated[dict[Id, Annotated[list[Short], Field(min_length=2, max_length=6)]], Field(min_length=2)]
    design: Literal["full", "half"] = "full"
    content: Annotated[list[Short], Field(min_length=1, max_length=20)]
    control: dict[Id, Short] | None = None  # the combination the others are compared with


class NamespaceModel(StrictModel):
    """Experiments in one namespace with disjoint ranges never share a user."""

    name: Id
    range: Annotated[list[Probability], Field(min_length=2, max_length=2)]


class AllocationModel(StrictModel):
    """How traffic is split among arms: fixed weights (A/B, sticky per user) or a bandit."""

    mode: Literal["fixed", "epsilon_greedy", "ucb1", "thompson"] = "fixed"
    floor: Annotated[float, Field(ge=0.0, le=0.2)] = 0.01
    warmup: Annotated[int, Field(ge=0, le=1_000_000)] = 100
    epsilon: Annotated[float, Field(ge=0.0, le=1.0)] = 0.1
    per_segment: bool = True


class ConclusionModel(StrictModel):
    """A concluded experiment: every targeted user now gets their segment's winning arm.

    Written by `training experiments conclude` from the analysis, with its evidence; the
    experiment stops randomizing (each answer is logged with probability 1).
    """

    concluded_at: Instant
    default: Id  # the arm for segments without a winner of their own
    winners: dict[Short, Id] = Field(default_factory=dict)  # segment -> arm
    evidence: Annotated[str, Field(max_length=20_000)] = ""


class ExperimentModel(StrictModel):
    id: Id
    description: Text | None = None
    seed: Short | None = None
    placements: Annotated[list[Short], Field(min_length=1)]
    regions: Annotated[list[Short], Field(min_length=1)] | None = None
    segments: Annotated[list[Short], Field(min_length=1)] | None = None
    when: Any = None
    coverage: Probability = 1.0
    namespace: NamespaceModel | None = None
    active: WindowModel | None = None
    metric: Metric
    guardrails: list[Metric] = Field(default_factory=list)
    minimum_detectable_effect: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    arms: Annotated[list[ArmModel], Field(min_length=2, max_length=20)] | None = None
    factorial: FactorialModel | None = None
    allocation: AllocationModel = AllocationModel()
    conclusion: ConclusionModel | None = None

    @model_validator(mode="after")
    def _arms_or_factors(self) -> ExperimentModel:
        if (self.arms is None) == (self.factorial is None):
            raise ValueError(f"experiment '{self.id}': give either arms or factorial, not both")
        return self


class ExpectModel(StrictModel):
    """`experiment: null` expects that no experiment applies; omitted keys are not checked."""

    experiment: Short | None = None
    arm: Short | None = None


class CaseModel(StrictModel):
    name: Short
    now: Instant | None = None
    request: RequestModel
    expect: ExpectModel


class ExperimentFileModel(StrictModel):
    version: Version
    description: Text | None = None
    experiments: list[ExperimentModel] = Field(default_factory=list)
    tests: list[CaseModel] = Field(default_factory=list)
