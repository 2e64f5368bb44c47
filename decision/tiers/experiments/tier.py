"""The experiments tier: a request in a running experiment gets its arm's answer, with provenance.

After the rules (legal and ops rules still win), before the model. A content arm answers with
its content (and a multivariate arm's levels as parameters); a model arm ranks with the
model its alias names (champion vs challenger), from the shared model pool; the control arm
passes to the next tier and carries the experiment and arm into whatever answers, so the
decision log counts it as an exposure of control. Every item of an experiment answer carries
the arm's assignment probability.

Experiment files are optional: with no folder or no files, the tier passes (NO_EXPERIMENT)
and is ready at once; a broken set never becomes active, the last good one keeps running.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from decision import metrics
from decision.conditions.errors import SpecFileError
from decision.domain import NO_PARAMETERS, Decision, FallbackReason, Item, Outcome, Provenance, Source
from decision.pipeline.context import RequestContext
from decision.pipeline.tier import AliasRanking, Answer, TierEnvironment, TierResult
from decision.reload.specstore import SpecStore
from decision.tiers.experiments.assign import Assignment, BanditProbabilities, assign
from decision.tiers.experiments.bandit import BanditState, LocalStats, StatsBackend
from decision.tiers.experiments.casefile import compile_and_test
from decision.tiers.experiments.compiled import ExperimentSet
from decision.tiers.experiments.redis_stats import RedisStats

log = logging.getLogger(__name__)


class ExperimentsTier:
    """Assigns requests to experiment arms and answers for them."""

    error_reason = FallbackReason.TIER_ERROR
    min_budget_seconds = 0.0

    def __init__(
        self,
        store: SpecStore[ExperimentSet],
        models: AliasRanking,
        bandit: BanditState | None = None,
        name: str = "experiments",
    ) -> None:
        """Without a `bandit` state, adaptive experiments keep their declared weights."""
        self.name = name
        self.store = store
        self.bandit = bandit
        self._models = models
        self._probabilities: BanditProbabilities | None = bandit.probabilities if bandit is not None else None
        self._unserved = metrics.TIER_ERRORS.labels(f"{name}_arm_unavailable")

    def decide(self, context: RequestContext) -> TierResult:
        experiments = self.store.current
        if experiments is None:
            return FallbackReason.NO_EXPERIMENT
        assignment = assign(experiments, context, self._probabilities)
        if assignment is None:
            return FallbackReason.NO_EXPERIMENT
        provenance = _provenance(experiments, assignment, self.name)
        arm = assignment.arm
        if arm.control:
            context.carry(provenance)
            return FallbackReason.EXPERIMENT_CONTROL
        if arm.model:
            return self._ranked_by(arm.model, context, assignment, provenance)
        excluded = context.request.exclude_content_ids
        content = [c for c in arm.content if c not in excluded][: context.limit]
        if not content:
            return FallbackReason.NO_ELIGIBLE_CONTENT
        probability = assignment.probability
        parameters = arm.parameters or {}
        items = tuple([Item(c, 1.0, rank, parameters, probability) for rank, c in enumerate(content, 1)])
        return Answer(Source.EXPERIMENT, items, provenance)

    def _ranked_by(
        self, alias: str, context: RequestContext, assignment: Assignment, provenance: Provenance
    ) -> TierResult:
        """The arm's model ranks; if it cannot, the request is not counted in the experiment."""
        result = self._models.rank(alias, context)
        if not isinstance(result, Answer):
            self._unserved.inc()
            return result
        probability = assignment.probability
        items = tuple([item._replace(probability=probability) for item in result.items])
        ranked = result.provenance
        return Answer(
            Source.EXPERIMENT,
            items,
            provenance._replace(model_name=ranked.model_name, model_version=ranked.model_version),
        )

    def on_decision(self, decision: Decision, context: RequestContext) -> None:
        """Adaptive experiments learn which arm each decision showed."""
        if self.bandit is not None and decision.provenance.experiment_id:
            self.bandit.on_decision(decision, context)

    def on_outcome(self, outcome: Outcome, received_at: datetime) -> None:
        """…and what came of it."""
        if self.bandit is not None:
            self.bandit.on_outcome(outcome, received_at)

    def start(self, ready: Callable[[], None]) -> None:
        """Load the experiments (optional: ready either way), follow their models, watch the files."""
        self.store.add_listener(self._on_new_set)
        if self.bandit is not None:
            self.bandit.start()
        try:
            self.store.load_initial()
        except SpecFileError as exc:
            log.error("experiments in %s refused; none running until they are fixed:\n%s", self.store.path, exc)
        if self.store.current is None:
            log.info("no experiments running (experiment files: %s)", self.store.path)
        self.store.start()
        ready()

    def stop(self) -> None:
        self.store.stop()
        if self.bandit is not None:
            self.bandit.stop()
        self._models.follow(self.name, ())

    def _on_new_set(self) -> None:
        """A new experiment set is active: follow its models, track its adaptive experiments."""
        current = self.store.current
        self._models.follow(self.name, current.model_aliases if current is not None else ())
        if self.bandit is not None:
            self.bandit.use(current.experiments if current is not None else ())


def _provenance(experiments: ExperimentSet, assignment: Assignment, tier: str) -> Provenance:
    """The experiment's provenance; a multivariate arm's factor levels go in `details`."""
    levels = assignment.arm.levels
    return Provenance(
        tier=tier,
        details=levels if levels is not None else NO_PARAMETERS,
        experiment_id=assignment.experiment.id,
        experiment_version=experiments.version,
        experiment_hash=experiments.content_hash,
        arm=assignment.arm.id,
        arm_probability=assignment.probability,
    )


def build(env: TierEnvironment) -> ExperimentsTier:
    """The `experiments` entry of the `tiers` setting: the files at `experiments_path`."""
    settings = env.settings
    store: SpecStore[ExperimentSet] = SpecStore(
        settings.experiments_path,
        compile_and_test,
        "experiment set",
        metrics.EXPERIMENTS_RELOADS,
        metrics.EXPERIMENTS_INFO,
        settings.rules_poll_seconds,
        empty_means_none=True,
    )
    backend: StatsBackend = LocalStats() if settings.shared_state_url is None else RedisStats.connect(settings)
    return ExperimentsTier(store, env.models, BanditState(backend, settings.bandit_refresh_seconds), env.name)
