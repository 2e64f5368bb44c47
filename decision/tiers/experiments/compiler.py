"""Experiment files → one ExperimentSet, or every problem found (file:line: experiment <id>: reason).

One set is one file, or every `*.yaml` file directly in one folder; all files declare the
same `version`. Beyond the schema, the compiler checks what only the whole set can say:
unique ids, arm weights that add up, one control at most, disjoint ranges within a
namespace, valid factorial designs, conditions typed against the field registry.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType

from decision.conditions import condition as cond
from decision.conditions import facts, window
from decision.conditions.errors import SpecFileError
from decision.conditions.fields import FieldType
from decision.conditions.loader import MarkedDict, MarkedList, SourceFile, content_hash, read_spec_files
from decision.conditions.validation import Problems, validate_document
from decision.tiers.experiments import design
from decision.tiers.experiments.allocation import (
    Allocation,
    AllocationMode,
    BetaThompson,
    EpsilonGreedy,
    GaussianThompson,
    Ucb1,
)
from decision.tiers.experiments.compiled import Case, CompiledArm, CompiledExperiment, ExperimentSet, Namespace
from decision.tiers.experiments.hashing import SeededHash, bucket_ranges
from decision.tiers.experiments.schema import ArmModel, ExperimentFileModel, ExperimentModel

MAX_EXPERIMENTS = 200
#: report(key of the experiment's mapping the problem is at, reason)
Report = Callable[[str, str], None]
_WEIGHT_TOLERANCE = 1e-3


def compile_path(path: Path) -> ExperimentSet:
    """Read, validate and compile the experiment set at `path`; raises SpecFileError with every problem."""
    sources, read_problems = read_spec_files(path)
    problems = Problems("experiment")
    problems.items.extend(p for err in read_problems for p in err.problems)
    compiled = _compile_sources(sources, problems) if sources else None
    if problems.items or compiled is None:
        if not problems.items:
            problems.add(str(path), 1, None, "no experiments could be compiled")
        raise SpecFileError.collect(problems.items)
    return compiled


def _compile_sources(sources: list[SourceFile], problems: Problems) -> ExperimentSet | None:
    models = [(s, validate_document(s, ExperimentFileModel, "experiments", problems)) for s in sources]
    versions = {m.version: s.name for s, m in models if m}
    if len(versions) > 1:
        listing = ", ".join(f"{Path(n).name}={v}" for v, n in sorted(versions.items()))
        problems.add(sources[0].name, 1, None, f"files declare different versions ({listing})")
    experiments: list[CompiledExperiment] = []
    seen: dict[str, str] = {}
    cases: list[Case] = []
    for source, model in models:
        if model is None:
            continue
        lines = source.document["experiments"].item_lines if model.experiments else []
        for index, spec in enumerate(model.experiments):
            line = lines[index]
            if spec.id in seen:
                problems.add(source.name, line, spec.id, f"duplicate experiment id (first in {seen[spec.id]})")
            seen.setdefault(spec.id, f"{Path(source.name).name}:{line}")
            compiled = _compile_experiment(spec, source, index, problems)
            if compiled is not None:
                experiments.append(compiled)
        tests = source.document.get("tests")
        if isinstance(tests, MarkedList):
            cases.extend(Case(source.name, tests.item_lines[i], c) for i, c in enumerate(model.tests))
    if len(experiments) > MAX_EXPERIMENTS:
        problems.add(sources[0].name, 1, None, f"more than {MAX_EXPERIMENTS} experiments")
    _check_namespaces(experiments, problems)
    if problems.items or not versions:
        return None
    by_placement: dict[str, list[CompiledExperiment]] = defaultdict(list)
    for experiment in experiments:
        for placement in sorted(experiment.placements):
            by_placement[placement].append(experiment)
    return ExperimentSet(
        next(iter(versions)),
        content_hash(sources),
        tuple(experiments),
        tuple(cases),
        MappingProxyType({placement: tuple(found) for placement, found in by_placement.items()}),
    )


def _compile_experiment(
    spec: ExperimentModel, source: SourceFile, index: int, problems: Problems
) -> CompiledExperiment | None:
    raw: MarkedDict = source.document["experiments"][index]
    line = source.document["experiments"].item_lines[index]
    before = len(problems.items)

    def report(key: str, reason: str) -> None:
        problems.add(source.name, raw.key_lines.get(key, line), spec.id, reason)

    condition = None
    if spec.when is not None:
        condition = cond.parse(spec.when, raw.key_lines.get("when", line), lambda at, why: report("when", why))
    start = end = None
    if spec.active is not None:
        try:
            start, end = window.bounds(spec.active)
        except window.WindowError as exc:
            report("active", str(exc))
    arms = _arms(spec, report)
    weights = _weights(spec, arms, report)
    namespace = None
    if spec.namespace is not None:
        low, high = spec.namespace.range
        if not low < high:
            report("namespace", f"namespace range [{low}, {high}) is empty: give [start, end) with start < end")
        namespace = Namespace(spec.namespace.name, low, high)
    allocation = _allocation(spec, weights, report)
    concluded = _conclusion(spec, arms, report)
    if len(problems.items) > before:
        return None
    open_weights = tuple(0.0 if arm.personalized else w for arm, w in zip(arms, weights, strict=True))
    total_open = math.fsum(open_weights)
    open_weights = tuple(w / total_open for w in open_weights) if total_open else open_weights
    seed = spec.seed or spec.id
    return CompiledExperiment(
        id=spec.id,
        file=source.name,
        line=line,
        seed=seed,
        point=SeededHash(seed),
        placements=frozenset(spec.placements),
        regions=frozenset(spec.regions) if spec.regions else None,
        segments=frozenset(spec.segments) if spec.segments else None,
        condition=condition,
        slots=_slots(condition),
        active_from=start,
        active_until=end,
        coverage=spec.coverage,
        namespace=namespace,
        arms=arms,
        weights=weights,
        ranges=tuple(bucket_ranges(weights, spec.coverage)),
        open_ranges=_open_ranges(open_weights, spec.coverage),
        open_weights=open_weights,
        metric=spec.metric,
        guardrails=tuple(spec.guardrails),
        minimum_detectable_effect=spec.minimum_detectable_effect,
        allocation=allocation,
        per_segment=spec.allocation.per_segment,
        description=spec.description or "",
        concluded=MappingProxyType(concluded[0]) if concluded is not None else None,
        concluded_default=concluded[1] if concluded is not None else -1,
    )


def _arms(spec: ExperimentModel, say: Report) -> tuple[CompiledArm, ...]:
    if spec.factorial is not None:
        factorial = spec.factorial
        try:
            combinations = design.combinations(factorial.factors, factorial.design)
        except design.DesignError as exc:
            say("factorial", str(exc))
            return ()
        if factorial.control is not None and factorial.control not in combinations:
            say("factorial", f"control {factorial.control} is not one of the design's combinations")
        return tuple(
            CompiledArm(
                design.arm_id(levels),
                content=tuple(factorial.content),
                parameters=MappingProxyType(dict(levels)),
                control=levels == factorial.control,
                levels=MappingProxyType(dict(levels)),
            )
            for levels in combinations
        )
    assert spec.arms is not None
    ids = [arm.id for arm in spec.arms]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        say("arms", f"arm ids must be unique; repeated: {', '.join(repeated)}")
    if sum(arm.control for arm in spec.arms) > 1:
        say("arms", "at most one arm may be control")
    return tuple(_arm(arm) for arm in spec.arms)


def _arm(arm: ArmModel) -> CompiledArm:
    return CompiledArm(
        arm.id,
        content=tuple(arm.content or ()),
        parameters=MappingProxyType(dict(arm.parameters)),
        model=arm.model or "",
        control=arm.control,
    )


def _weights(spec: ExperimentModel, arms: tuple[CompiledArm, ...], report: Report) -> tuple[float, ...]:
    if not arms:
        return ()
    given = [arm.weight for arm in spec.arms] if spec.arms is not None else [None] * len(arms)
    if all(w is None for w in given):
        return (1.0 / len(arms),) * len(arms)
    if any(w is None for w in given):
        report("arms", "give every arm a weight, or none (equal weights)")
        return (1.0 / len(arms),) * len(arms)
    weights = tuple(float(w) for w in given if w is not None)
    if abs(math.fsum(weights) - 1.0) > _WEIGHT_TOLERANCE:
        report("arms", f"arm weights add up to {math.fsum(weights):g}, not 1")
    return weights


def _allocation(spec: ExperimentModel, weights: tuple[float, ...], report: Report) -> Allocation | None:
    settings = spec.allocation
    if settings.mode == "fixed" or not weights:
        return None
    mode: AllocationMode
    if settings.mode == "thompson":
        mode = GaussianThompson() if spec.metric == "revenue" else BetaThompson()
    elif settings.mode == "ucb1":
        mode = Ucb1()
    else:
        mode = EpsilonGreedy(settings.epsilon)
    try:
        return Allocation(mode, weights, settings.floor, settings.warmup)
    except ValueError as exc:
        report("allocation", str(exc))
        return None


def _conclusion(
    spec: ExperimentModel, arms: tuple[CompiledArm, ...], report: Report
) -> tuple[dict[str, int], int] | None:
    """(segment -> winning arm index, default arm index) of a concluded experiment."""
    conclusion = spec.conclusion
    if conclusion is None:
        return None
    index = {arm.id: i for i, arm in enumerate(arms)}
    unknown = sorted({conclusion.default, *conclusion.winners.values()} - set(index))
    if unknown:
        report("conclusion", f"conclusion names arms that do not exist: {', '.join(unknown)}")
        return None
    return {segment: index[arm] for segment, arm in conclusion.winners.items()}, index[conclusion.default]


def _open_ranges(open_weights: tuple[float, ...], coverage: float) -> tuple[tuple[float, float], ...]:
    """Bucket ranges over the non-personalized arms only; a personalized arm's range is empty."""
    ranges = bucket_ranges(open_weights, coverage)
    return tuple((-1.0, -1.0) if weight == 0.0 else r for weight, r in zip(open_weights, ranges, strict=True))


def _slots(condition: cond.Condition | None) -> tuple[facts.Slot, ...]:
    """One slot per field the condition reads, keyed by the field's own name."""
    types: dict[str, FieldType | None] = {}
    for leaf in cond.leaves(condition):
        kind = leaf.type if isinstance(leaf, cond.Compare) else None
        types[leaf.field] = types.get(leaf.field) or kind
    return tuple(facts.slot(name, name, kind) for name, kind in sorted(types.items(), key=lambda item: item[0]))


def _check_namespaces(experiments: list[CompiledExperiment], problems: Problems) -> None:
    """Experiments sharing a namespace must take disjoint ranges, or one user could be in both."""
    by_name: dict[str, list[tuple[Namespace, CompiledExperiment]]] = defaultdict(list)
    for experiment in experiments:
        if experiment.namespace is not None:
            by_name[experiment.namespace.name].append((experiment.namespace, experiment))
    for name, members in by_name.items():
        ordered = sorted(members, key=lambda member: member[0].start)
        for (left_range, left), (right_range, right) in itertools.pairwise(ordered):
            if right_range.start < left_range.end:
                problems.add(
                    right.file,
                    right.line,
                    right.id,
                    f"namespace '{name}' range overlaps experiment {left.id}'s; give them disjoint ranges",
                )
