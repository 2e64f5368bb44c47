"""The immutable result of compiling an experiment set, shared by the tier, the tests and the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from decision.conditions.condition import Condition
from decision.conditions.facts import Slot
from decision.tiers.experiments.allocation import Allocation
from decision.tiers.experiments.hashing import SeededHash
from decision.tiers.experiments.schema import CaseModel, Metric


@dataclass(frozen=True, slots=True)
class CompiledArm:
    """One arm: fixed `content` with parameters, a `model` alias to rank with, or control.

    `personalized` arms use the user's profile (model arms): users without consent are never
    assigned to them. `levels` holds a multivariate arm's factor levels.
    """

    id: str
    content: tuple[str, ...] = ()
    parameters: Mapping[str, str] | None = None
    model: str = ""
    control: bool = False
    levels: Mapping[str, str] | None = None

    @property
    def personalized(self) -> bool:
        return bool(self.model)


@dataclass(frozen=True, slots=True)
class Namespace:
    name: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class CompiledExperiment:
    """One experiment, checked: whom it targets, its arms and how they are allocated."""

    id: str
    file: str
    line: int
    seed: str
    point: SeededHash  # the unit's sticky point in [0, 1)
    placements: frozenset[str]
    regions: frozenset[str] | None
    segments: frozenset[str] | None
    condition: Condition | None
    slots: tuple[Slot, ...]  # the fields the condition reads, keyed by their own names
    active_from: float | None
    active_until: float | None
    coverage: float
    namespace: Namespace | None
    arms: tuple[CompiledArm, ...]
    weights: tuple[float, ...]
    ranges: tuple[tuple[float, float], ...]  # every arm, for users with consent
    open_ranges: tuple[tuple[float, float], ...]  # non-personalized arms only (others (-1, -1))
    open_weights: tuple[float, ...]  # the weights `open_ranges` were built from (renormalized)
    metric: Metric
    guardrails: tuple[Metric, ...]
    minimum_detectable_effect: float | None
    allocation: Allocation | None  # None: fixed weights, sticky per user
    per_segment: bool
    description: str = ""
    concluded: Mapping[str, int] | None = None  # segment -> winning arm index, once concluded
    concluded_default: int = -1  # the arm of segments without a winner
    #: arm id -> its index in `arms` (an adaptive experiment's exposure names its arm by id)
    arm_index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "arm_index", {arm.id: i for i, arm in enumerate(self.arms)})

    @property
    def is_concluded(self) -> bool:
        return self.concluded is not None

    @property
    def control(self) -> CompiledArm | None:
        return next((arm for arm in self.arms if arm.control), None)


@dataclass(frozen=True, slots=True)
class Case:
    """One `tests:` entry, with where it came from (`file::name` is its id)."""

    file: str
    line: int
    spec: CaseModel

    @property
    def case_id(self) -> str:
        return f"{self.file.rsplit('/', 1)[-1]}::{self.spec.name}"


@dataclass(frozen=True, slots=True)
class ExperimentSet:
    """A whole experiment-set version (what the store publishes)."""

    version: str
    content_hash: str
    experiments: tuple[CompiledExperiment, ...]
    cases: tuple[Case, ...]
    by_placement: Mapping[str, tuple[CompiledExperiment, ...]]

    @property
    def model_aliases(self) -> frozenset[str]:
        """Every model alias an arm ranks with (the model pool must follow them)."""
        return frozenset(arm.model for e in self.experiments for arm in e.arms if arm.model)
