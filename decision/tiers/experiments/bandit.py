"""Bandit state: what each arm of each adaptive experiment has seen, and the probabilities it yields.

Decisions record exposures (experiment, segment, arm) under their decision id; reported
outcomes look the decision up and add its reward once (the experiment's metric: a click, a
conversion, or the revenue). A background refresh turns the statistics into each segment's
probability vector (`Allocation.probabilities`) every `refresh_seconds`, so a decision only
reads a published vector, and outcomes move allocation within about one refresh.

The statistics live in a `StatsBackend`: in this process by default, or in Redis when several
processes or replicas serve (decision/tiers/experiments/redis_stats.py), so that every one of
them publishes the same probabilities. A backend that fails (Redis down) is counted and the
last published vectors stay in use: decisions never wait for it or fail because of it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol

from decision import metrics
from decision.domain import Decision, Outcome
from decision.pipeline.context import RequestContext
from decision.reload.periodic import Periodic
from decision.tiers.experiments.allocation import ArmProbabilities, ArmStats
from decision.tiers.experiments.compiled import CompiledExperiment

log = logging.getLogger(__name__)

#: Outcome type that counts as the success of each primary metric.
_SUCCESS_OF = {"click": "click", "conversion": "conversion", "revenue": "conversion"}


class Exposure(NamedTuple):
    """One decision of an adaptive experiment: where its outcome's reward goes."""

    experiment: str
    segment: str
    arm: int


class Delta(NamedTuple):
    """Increments to one arm's statistics (exposures, successes, reward, reward squared)."""

    exposures: int = 0
    successes: int = 0
    reward: float = 0.0
    reward_sq: float = 0.0


StatsKey = tuple[str, str, int]  # experiment, segment, arm


class StatsBackend(Protocol):
    """Where the statistics live. Calls come from the refresh thread only, never from a request."""

    def add(self, deltas: Mapping[StatsKey, Delta], exposures: Mapping[str, Exposure]) -> None:
        """Apply increments and remember decisions (decision id -> exposure) for late outcomes."""
        ...

    def exposures_of(self, decision_ids: Sequence[str]) -> dict[str, Exposure]:
        """The exposures of decisions this process did not see (another process or replica made them)."""
        ...

    def stats(self, experiment: str) -> dict[tuple[str, int], ArmStats]:
        """Every (segment, arm) statistic of one experiment."""
        ...


@dataclass
class LocalStats:
    """The in-process backend: statistics and recent decisions in dictionaries."""

    remember: int = 200_000
    _stats: dict[StatsKey, ArmStats] = field(default_factory=dict)
    _decisions: OrderedDict[str, Exposure] = field(default_factory=OrderedDict)

    def add(self, deltas: Mapping[StatsKey, Delta], exposures: Mapping[str, Exposure]) -> None:
        for key, delta in deltas.items():
            self._stats[key] = self._stats.get(key, ArmStats()).observe(*delta)
        self._decisions.update(exposures)
        while len(self._decisions) > self.remember:
            self._decisions.popitem(last=False)

    def exposures_of(self, decision_ids: Sequence[str]) -> dict[str, Exposure]:
        return {d: self._decisions[d] for d in decision_ids if d in self._decisions}

    def stats(self, experiment: str) -> dict[tuple[str, int], ArmStats]:
        return {(segment, arm): s for (e, segment, arm), s in self._stats.items() if e == experiment}


class BanditState:
    """Per-process front of the statistics: cheap to record into, refreshed in the background."""

    def __init__(self, backend: StatsBackend, refresh_seconds: float = 0.5, remember: int = 200_000) -> None:
        self._backend = backend
        self._remember = remember
        self._lock = threading.Lock()
        self._experiments: dict[str, CompiledExperiment] = {}
        self._vectors: dict[tuple[str, str], ArmProbabilities] = {}
        self._declared: dict[str, ArmProbabilities] = {}  # each experiment's weights, until a refresh
        self._recent: OrderedDict[str, Exposure] = OrderedDict()  # this process's decisions
        self._counted: set[str] = set()  # decisions whose success was counted (once each)
        self._deltas: dict[StatsKey, Delta] = {}
        self._new_exposures: dict[str, Exposure] = {}
        self._unmatched: list[tuple[Outcome, float]] = []
        self._poller = Periodic("bandit-state", refresh_seconds, self.refresh)
        self._failures = metrics.STATE_FAILURES.labels("bandit")

    def use(self, experiments: Sequence[CompiledExperiment]) -> None:
        """The adaptive experiments now running (called when the experiment set changes)."""
        with self._lock:
            self._experiments = {e.id: e for e in experiments if e.allocation is not None}
            self._declared = {e.id: ArmProbabilities.of(e.weights) for e in self._experiments.values()}

    def probabilities(self, experiment: CompiledExperiment, segment: str) -> ArmProbabilities:
        """The published vector, or the declared weights until the first refresh."""
        found = self._vectors.get((experiment.id, segment)) or self._declared.get(experiment.id)
        if found is None:  # an experiment this state has not been told about yet
            found = ArmProbabilities.of(experiment.weights)
        return found

    def on_decision(self, decision: Decision, context: RequestContext) -> None:
        """Record the exposure of an adaptive experiment's decision (a dict lookup otherwise)."""
        provenance = decision.provenance
        experiment = self._experiments.get(provenance.experiment_id)
        if experiment is None:
            return
        segment = context.segment_if_assigned
        name = segment.name if segment is not None and experiment.per_segment else ""
        arm = experiment.arm_index.get(provenance.arm, -1)
        if arm < 0:
            return
        exposure = Exposure(experiment.id, name, arm)
        with self._lock:
            self._recent[decision.decision_id] = exposure
            if len(self._recent) > self._remember:
                self._recent.popitem(last=False)
            self._add((experiment.id, name, arm), Delta(exposures=1))
            self._new_exposures[decision.decision_id] = exposure

    def on_outcome(self, outcome: Outcome, received_at: datetime) -> None:
        """Count a reported outcome towards its decision's arm (once per decision and metric)."""
        with self._lock:
            exposure = self._recent.get(outcome.decision_id)
            if exposure is None:
                if len(self._unmatched) < self._remember:
                    self._unmatched.append((outcome, time.monotonic()))
                return
            self._credit(outcome, exposure)

    def _credit(self, outcome: Outcome, exposure: Exposure) -> None:
        experiment = self._experiments.get(exposure.experiment)
        if experiment is None or outcome.outcome_type != _SUCCESS_OF[experiment.metric]:
            return
        if outcome.decision_id in self._counted:
            return
        self._counted.add(outcome.decision_id)
        if len(self._counted) > self._remember:
            self._counted.clear()  # old decisions are past any attribution window
        reward = outcome.value if experiment.metric == "revenue" else 1.0
        self._add((exposure.experiment, exposure.segment, exposure.arm), Delta(0, 1, reward, reward * reward))

    def _add(self, key: StatsKey, delta: Delta) -> None:
        old = self._deltas.get(key)
        if old is not None:
            delta = Delta(
                old.exposures + delta.exposures,
                old.successes + delta.successes,
                old.reward + delta.reward,
                old.reward_sq + delta.reward_sq,
            )
        self._deltas[key] = delta

    def refresh(self) -> None:
        """Push increments to the backend, match outcomes of other processes' decisions, and
        republish every adaptive experiment's vectors."""
        with self._lock:
            deltas, self._deltas = self._deltas, {}
            exposures, self._new_exposures = self._new_exposures, {}
            unmatched, self._unmatched = self._unmatched, []
            experiments = dict(self._experiments)
        try:
            self._backend.add(deltas, exposures)
            if unmatched:
                self._match_elsewhere(unmatched)
            vectors = {}
            for experiment in experiments.values():
                vectors.update(_vectors(experiment, self._backend.stats(experiment.id)))
        except Exception as exc:  # a backend outage keeps the last vectors; decisions go on
            self._failures.inc()
            log.warning("bandit state: refresh failed (%s); keeping the last probabilities", type(exc).__name__)
            with self._lock:  # keep the increments for the next attempt
                for key, delta in deltas.items():
                    self._add(key, delta)
                self._new_exposures.update(exposures)
            return
        self._vectors = vectors

    def _match_elsewhere(self, unmatched: list[tuple[Outcome, float]]) -> None:
        found = self._backend.exposures_of([outcome.decision_id for outcome, _ in unmatched])
        now = time.monotonic()
        with self._lock:
            for outcome, since in unmatched:
                exposure = found.get(outcome.decision_id)
                if exposure is not None:
                    self._credit(outcome, exposure)
                elif now - since < 60.0 and len(self._unmatched) < self._remember:
                    self._unmatched.append((outcome, since))  # its decision may not be shared yet
        if self._deltas:
            self._backend.add(self._drain(), {})

    def _drain(self) -> dict[StatsKey, Delta]:
        with self._lock:
            deltas, self._deltas = self._deltas, {}
        return deltas

    def start(self) -> None:
        self._poller.start()

    def stop(self) -> None:
        self._poller.stop()
        self.refresh()  # what this process counted reaches the shared backend before it exits


def _vectors(
    experiment: CompiledExperiment, stats: dict[tuple[str, int], ArmStats]
) -> dict[tuple[str, str], ArmProbabilities]:
    """Each segment's probability vector from its arms' statistics."""
    assert experiment.allocation is not None
    segments = {segment for segment, _ in stats}
    arms = range(len(experiment.arms))
    return {
        (experiment.id, segment): experiment.allocation.probabilities(
            [stats.get((segment, arm), ArmStats()) for arm in arms]
        )
        for segment in segments
    }
