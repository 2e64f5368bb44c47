"""Which experiment and arm a request belongs to: targeting, coverage, namespace, then the arm.

Experiments are tried in file order among those targeting the request's placement; the first
that takes the user wins (mutually exclusive experiments should share a namespace, so that
which one a user is in does not depend on the order). With fixed allocation the arm is
sticky: the unit's hash point falls in one arm's bucket range, the same every time. With a
bandit allocation the unit's point decides only whether it is in the experiment (sticky);
the arm is drawn per decision from the current probability vector. Either way the
probability of the assigned arm is returned, for the decision log and off-policy evaluation.

Users without personalization consent are assigned only among the arms that do not use
their profile (content and control arms, not model arms), with the weights renormalized
over those arms; the returned probability is the one they were actually assigned with.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import NamedTuple

from decision.conditions import facts
from decision.conditions.evaluate import truth
from decision.pipeline.context import RequestContext
from decision.sources.features import epoch
from decision.tiers.experiments.allocation import ArmProbabilities
from decision.tiers.experiments.compiled import CompiledArm, CompiledExperiment, ExperimentSet
from decision.tiers.experiments.hashing import choose, in_namespace

#: (experiment, segment name) -> the current probability vector of a bandit experiment.
BanditProbabilities = Callable[[CompiledExperiment, str], ArmProbabilities]


class Assignment(NamedTuple):
    experiment: CompiledExperiment
    arm: CompiledArm
    probability: float


def assign(
    experiments: ExperimentSet,
    context: RequestContext,
    bandit: BanditProbabilities | None = None,
    uniform: Callable[[], float] = random.random,
) -> Assignment | None:
    """The request's experiment and arm, or None when no running experiment takes it."""
    request = context.request
    candidates = experiments.by_placement.get(request.placement)
    if not candidates:
        return None
    now = epoch(context.now)
    for experiment in candidates:
        found, _ = _try(experiment, context, now, bandit, uniform)
        if found is not None:
            return found
    return None


def explain(experiment: CompiledExperiment, context: RequestContext) -> tuple[Assignment | None, str]:
    """What `assign` concludes for this one experiment, and in words why."""
    if context.request.placement not in experiment.placements:
        return None, "placement not targeted"
    return _try(experiment, context, epoch(context.now), None, random.random)


def _try(
    experiment: CompiledExperiment,
    context: RequestContext,
    now: float,
    bandit: BanditProbabilities | None,
    uniform: Callable[[], float],
) -> tuple[Assignment | None, str]:
    """The assignment in one experiment, or None and the reason (a constant: cheap on the hot path)."""
    excluded = _exclusion(experiment, context, now)
    if excluded is not None:
        return None, excluded
    if experiment.concluded is not None:
        return _concluded(experiment, context), "concluded: the segment's winner"
    request = context.request
    unit = request.user_id
    namespace = experiment.namespace
    if namespace is not None and not in_namespace(unit, namespace.name, namespace.start, namespace.end):
        return None, "outside its namespace range"
    point = experiment.point(unit)
    if experiment.allocation is None or bandit is None:
        found = _fixed(experiment, point, request.consent)
    else:
        found = _drawn(experiment, point, context, bandit, uniform)
    if found is None:
        return None, "outside its coverage (or, without consent, no arm that uses no profile)"
    return found, "assigned"


def _exclusion(experiment: CompiledExperiment, context: RequestContext, now: float) -> str | None:
    """Why the experiment does not target this request now, or None when it does."""
    if experiment.active_from is not None and now < experiment.active_from:
        return "not started yet"
    if experiment.active_until is not None and now >= experiment.active_until:
        return "ended"
    request = context.request
    if experiment.regions is not None and request.context.region not in experiment.regions:
        return "region not targeted"
    if experiment.segments is not None:
        segment = context.segment
        if segment is None or segment.name not in experiment.segments:
            return "segment not targeted"
    if experiment.condition is not None and not _holds(experiment, context):
        return "condition does not hold"
    return None


def _holds(experiment: CompiledExperiment, context: RequestContext) -> bool:
    """The targeting condition on the request's typed facts; unknown (a missing field) is no."""
    assert experiment.condition is not None
    found = facts.build(context.request, context.now, experiment.slots, context.segment_of)
    return truth(experiment.condition, found, str) is True


def _concluded(experiment: CompiledExperiment, context: RequestContext) -> Assignment:
    """A concluded experiment serves each segment's winner to everyone it targets (probability 1)."""
    assert experiment.concluded is not None
    segment = context.segment
    index = experiment.concluded.get(segment.name, experiment.concluded_default) if segment else -1
    arm = experiment.arms[index if index >= 0 else experiment.concluded_default]
    if arm.personalized and not context.request.consent:
        arm = experiment.arms[experiment.concluded_default]
    return Assignment(experiment, arm, 1.0)


def _fixed(experiment: CompiledExperiment, point: float, consent: bool) -> Assignment | None:
    if consent:
        ranges, weights = experiment.ranges, experiment.weights
    else:
        ranges, weights = experiment.open_ranges, experiment.open_weights
    index = choose(point, ranges)
    if index < 0:
        return None
    return Assignment(experiment, experiment.arms[index], weights[index])


def _drawn(
    experiment: CompiledExperiment,
    point: float,
    context: RequestContext,
    bandit: BanditProbabilities,
    uniform: Callable[[], float],
) -> Assignment | None:
    if point >= experiment.coverage:
        return None
    segment = context.segment if experiment.per_segment else None
    vector = bandit(experiment, segment.name if segment is not None else "")
    probabilities = vector.probabilities
    if not context.request.consent:
        open_share = [0.0 if arm.personalized else p for arm, p in zip(experiment.arms, probabilities, strict=True)]
        if not any(open_share):
            return None
        vector = ArmProbabilities.of(open_share)
        probabilities = vector.probabilities
    index = vector.choose(uniform())
    return Assignment(experiment, experiment.arms[index], probabilities[index])
