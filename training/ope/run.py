"""`run_ope`: every estimator of one target policy's value on one set of logged decisions, with intervals and flags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from training.ope.bootstrap import DEFAULT_REPLICATES, MAX_DRAWS, bootstrap_sums, percentile_interval
from training.ope.estimators import (
    MIN_EFFECTIVE_SAMPLE,
    MIN_POSITIVE_REWARDS,
    direct_method,
    doubly_robust,
    effective_sample_size,
    importance_weights,
    ips,
    logged_mean,
    snips,
    thin_data_flag,
)
from training.ope.logged import LoggedFeedback
from training.ope.policies import TargetPolicy, checked_probabilities
from training.ope.reward_model import DEFAULT_FOLDS, cross_fitted_rewards

ESTIMATORS = ("IPS", "SNIPS", "DM", "DR")
LOGGED = "logging policy (on-policy mean)"


@dataclass(frozen=True)
class OpeConfig:
    """How to estimate; the defaults are the documented ones."""

    estimators: tuple[str, ...] = ESTIMATORS
    folds: int = DEFAULT_FOLDS  # reward-model cross-fitting folds (DM, DR)
    replicates: int = DEFAULT_REPLICATES  # bootstrap replicates asked for (fewer beyond bootstrap.MAX_DRAWS)
    max_draws: int = MAX_DRAWS
    seed: int = 0
    level: float = 0.95
    min_effective_sample: float = MIN_EFFECTIVE_SAMPLE
    min_positive_rewards: int = MIN_POSITIVE_REWARDS

    def __post_init__(self) -> None:
        unknown = sorted(set(self.estimators) - set(ESTIMATORS))
        if unknown:
            raise ValueError(f"unknown estimator(s) {', '.join(unknown)}; choose from {', '.join(ESTIMATORS)}")


@dataclass(frozen=True)
class Estimate:
    """One estimator's answer: value, bootstrap interval, standard error, ESS, and why not to trust it ("" if fine)."""

    estimator: str
    value: float
    low: float
    high: float
    standard_error: float
    effective_sample: float
    flag: str


@dataclass(frozen=True)
class OpeResult:
    """The estimates of one policy on one log, with what a reader needs to judge them."""

    policy: str
    source: str
    decisions: int
    actions: int
    estimates: tuple[Estimate, ...]
    weights: np.ndarray = field(repr=False)  # importance weight of every decision
    positive_rewards: int  # decisions with reward > 0 and weight > 0
    certain_decisions: int  # decisions logged with probability 1: no other action was possible there
    reward_model: str
    replicates: int
    bootstrap: str  # "poisson" or "multinomial" (see training.ope.bootstrap)
    config: OpeConfig

    def estimate(self, estimator: str) -> Estimate:
        return next(e for e in self.estimates if e.estimator == estimator)

    def frame(self) -> pd.DataFrame:
        """estimator, value, 95 % interval, SE, ESS, flag: one row per estimator, the logged mean last."""
        level = f"{self.config.level:.0%}"
        return pd.DataFrame(
            {
                "estimator": [e.estimator for e in self.estimates],
                "value": [e.value for e in self.estimates],
                f"{level} low": [e.low for e in self.estimates],
                f"{level} high": [e.high for e in self.estimates],
                "SE": [e.standard_error for e in self.estimates],
                "ESS": [e.effective_sample for e in self.estimates],
                "flag": [e.flag or "ok" for e in self.estimates],
            }
        )


def _quiet(message: str) -> None:
    """The default progress sink: say nothing."""


def run_ope(
    logged: LoggedFeedback,
    policy: TargetPolicy,
    config: OpeConfig | None = None,
    progress: Callable[[str], None] = _quiet,
) -> OpeResult:
    """Estimate `policy`'s value per decision from `logged` with every estimator in `config`.

    `progress` hears each stage as it starts (the command passes click.echo).
    """
    config = config or OpeConfig()
    progress(f"target policy {policy.name!r} on {len(logged.contexts):,} distinct contexts")
    target = checked_probabilities(policy, logged.contexts, logged.actions)
    weights = importance_weights(target[logged.context_index, logged.action], logged.propensity)
    reward = logged.reward
    terms = {
        "IPS": ips(reward, weights),
        "SNIPS": snips(reward, weights),
    }
    model = "none"
    if {"DM", "DR"} & set(config.estimators):
        progress(f"reward model: {config.folds}-fold cross-fit on {logged.decisions:,} decisions")
        predictions = cross_fitted_rewards(logged, target, config.folds, config.seed)
        model = f"{predictions.kind} regression, {predictions.folds}-fold cross-fitted"
        terms["DM"] = direct_method(predictions.q_target)
        terms["DR"] = doubly_robust(reward, weights, predictions.q_logged, predictions.q_target)
    chosen = {name: terms[name] for name in config.estimators}
    chosen[LOGGED] = logged_mean(reward)
    columns = np.column_stack([array for t in chosen.values() for array in (t.numerator, t.denominator)])
    progress("bootstrap")
    boot = bootstrap_sums(columns, config.seed, config.replicates, config.max_draws)
    flag = thin_data_flag(weights, reward, config.min_effective_sample, config.min_positive_rewards)
    ess = effective_sample_size(weights)
    results = []
    for i, (name, t) in enumerate(chosen.items()):
        with np.errstate(invalid="ignore", divide="ignore"):  # a replicate without any weight is NaN, skipped
            replicate_values = boot.sums[:, 2 * i] / boot.sums[:, 2 * i + 1]
        low, high = percentile_interval(replicate_values, config.level)
        on_policy = name == LOGGED
        results.append(
            Estimate(
                estimator=name,
                value=t.value,
                low=low,
                high=high,
                standard_error=t.standard_error,
                effective_sample=float(logged.decisions) if on_policy else ess,
                flag="" if on_policy else flag,
            )
        )
    return OpeResult(
        policy=policy.name,
        source=logged.source,
        decisions=logged.decisions,
        actions=len(logged.actions),
        estimates=tuple(results),
        weights=weights,
        positive_rewards=int(((reward > 0) & (weights > 0)).sum()),
        certain_decisions=int((logged.propensity == 1.0).sum()),
        reward_model=model,
        replicates=boot.replicates,
        bootstrap=boot.method,
        config=config,
    )
