"""The estimators of a target policy's value, each written as a ratio of two sums over logged decisions.

With w_i = pi(a_i | x_i) / p_i (target over logging probability of the logged action):

    IPS    sum(w r) / n
    SNIPS  sum(w r) / sum(w)
    DM     sum(q_target) / n                    q_target_i = E_{a ~ pi}[q_hat(x_i, a)]
    DR     sum(q_target + w (r - q_logged)) / n q_logged_i = q_hat(x_i, a_i)

(the same formulas as Open Bandit Pipeline's `obp/ope/estimators.py`, without clipping).
One form for all four means one standard error (the delta method for a ratio, which is the
plain standard error of the mean when the denominator is 1) and one bootstrap.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: Below this effective sample size a weighted mean rests on a few heavy rows; its interval is not trusted.
MIN_EFFECTIVE_SAMPLE = 100
#: Fewer positive rewards than this among rows the target policy could take: too few events to estimate from.
MIN_POSITIVE_REWARDS = 10


class RatioTerms(NamedTuple):
    """Per-decision numerator and denominator terms; the estimate is sum(numerator) / sum(denominator)."""

    numerator: np.ndarray
    denominator: np.ndarray

    @property
    def value(self) -> float:
        return float(self.numerator.sum() / self.denominator.sum())

    @property
    def standard_error(self) -> float:
        """Delta-method standard error of the ratio (with n / (n - 1), so a mean gets the usual sample SE)."""
        n = len(self.numerator)
        residual = self.numerator - self.value * self.denominator
        return float(np.sqrt((residual**2).sum() * n / max(n - 1, 1)) / abs(self.denominator.sum()))


def importance_weights(target_probability: np.ndarray, propensity: np.ndarray) -> np.ndarray:
    """pi(a_i | x_i) / p_i for each logged decision."""
    weights: np.ndarray = target_probability / propensity
    return weights


def effective_sample_size(weights: np.ndarray) -> float:
    """(sum w)^2 / sum w^2: how many equally weighted decisions the weighted sample is worth (Kish)."""
    squares = float((weights**2).sum())
    return float(weights.sum() ** 2 / squares) if squares > 0 else 0.0


def logged_mean(reward: np.ndarray) -> RatioTerms:
    """The logging policy's own value: the mean reward (on-policy, for reference)."""
    return RatioTerms(reward, np.ones_like(reward))


def ips(reward: np.ndarray, weights: np.ndarray) -> RatioTerms:
    """Inverse propensity scoring: unbiased when the logging probabilities are right; variance grows with w."""
    return RatioTerms(weights * reward, np.ones_like(reward))


def snips(reward: np.ndarray, weights: np.ndarray) -> RatioTerms:
    """Self-normalized IPS: slightly biased, far steadier when a few weights are large."""
    return RatioTerms(weights * reward, weights)


def direct_method(q_target: np.ndarray) -> RatioTerms:
    """The reward model's prediction under the target policy: low variance, biased where the model is wrong."""
    return RatioTerms(q_target, np.ones_like(q_target))


def doubly_robust(reward: np.ndarray, weights: np.ndarray, q_logged: np.ndarray, q_target: np.ndarray) -> RatioTerms:
    """DM corrected by IPS on the model's residuals: unbiased if either the model or the probabilities are right."""
    return RatioTerms(q_target + weights * (reward - q_logged), np.ones_like(reward))


def thin_data_flag(
    weights: np.ndarray,
    reward: np.ndarray,
    min_effective_sample: float = MIN_EFFECTIVE_SAMPLE,
    min_positive_rewards: int = MIN_POSITIVE_REWARDS,
) -> str:
    """Why an estimate from these weights is too thin to trust, or "" when it is not."""
    reasons = []
    ess = effective_sample_size(weights)
    if ess < min_effective_sample:
        reasons.append(f"ESS {ess:.1f} < {min_effective_sample:g}")
    positives = int(((reward > 0) & (weights > 0)).sum())
    if positives < min_positive_rewards:
        reasons.append(f"{positives} positive rewards with weight > 0 < {min_positive_rewards}")
    return "; ".join(reasons)
