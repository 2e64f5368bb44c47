"""A contextual bandit with a known reward function: logs from one policy, the exact value of another.

Contexts are placement x device x segment (30 combinations, unequal shares), 20 actions,
click rates between 1 % and 20 %. The click logit is additive in context and action
effects plus a small three-way term that an additive reward model cannot fit, so DM is a
little wrong and DR has something to correct. The logging policy is a softmax of a noisy
score (an older, flatter model); the target is a sharper softmax of a less noisy score (a
candidate model). Both are tables over contexts, as a served model's scores would be.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, softmax

from training.ope.logged import LoggedFeedback
from training.ope.policies import TablePolicy

PLACEMENTS = ("home", "cart", "article")
DEVICES = ("mobile", "desktop")
SEGMENTS = ("new", "casual", "loyal", "lapsed", "vip")
CONTEXT_COLUMNS = ("placement", "device", "segment")
ACTIONS = 20
_RATE_RANGE = (0.01, 0.20)


@dataclass(frozen=True)
class World:
    """Everything known about the simulated bandit, per context (rows) and action (columns)."""

    contexts: pd.DataFrame  # placement, device, segment
    context_share: np.ndarray  # probability of each context
    click_rate: np.ndarray  # true E[reward | context, action]
    logging: np.ndarray  # logging policy probabilities
    target: np.ndarray  # target policy probabilities
    actions: tuple[str, ...]

    def value(self, probabilities: np.ndarray) -> float:
        """Exact value of a policy given as (contexts x actions) probabilities."""
        return float(self.context_share @ (probabilities * self.click_rate).sum(axis=1))

    def policy(self, probabilities: np.ndarray, name: str) -> TablePolicy:
        table = pd.concat([self.contexts, pd.DataFrame(probabilities, columns=list(self.actions))], axis=1)
        return TablePolicy(table, CONTEXT_COLUMNS, name)


def make_world(seed: int = 0) -> World:
    """The reward function and both policies, fixed by `seed`."""
    rng = np.random.default_rng(seed)
    contexts = pd.DataFrame(list(itertools.product(PLACEMENTS, DEVICES, SEGMENTS)), columns=list(CONTEXT_COLUMNS))
    shares = [rng.dirichlet(np.full(len(values), 3.0)) for values in (PLACEMENTS, DEVICES, SEGMENTS)]
    context_share = np.array([a * b * c for a, b, c in itertools.product(*shares)])
    codes = [pd.factorize(contexts[c])[0] for c in CONTEXT_COLUMNS]
    logit = np.full((len(contexts), ACTIONS), np.log(0.05 / 0.95)) + rng.normal(0.0, 0.5, ACTIONS)
    for column_codes, values in zip(codes, (PLACEMENTS, DEVICES, SEGMENTS), strict=True):
        logit += rng.normal(0.0, 0.45, (len(values), ACTIONS))[column_codes]
    logit += rng.normal(0.0, 0.15, logit.shape)  # the three-way part no additive model fits
    low, high = (np.log(r / (1 - r)) for r in _RATE_RANGE)
    click_rate = expit(np.clip(logit, low, high))
    logging = softmax((logit + rng.normal(0.0, 0.8, logit.shape)) / 1.2, axis=1)
    target = softmax((logit + rng.normal(0.0, 0.4, logit.shape)) / 0.35, axis=1)
    actions = tuple(f"c{a:02d}" for a in range(ACTIONS))
    return World(contexts, context_share, click_rate, logging, target, actions)


def simulate_logs(world: World, decisions: int, seed: int = 1) -> LoggedFeedback:
    """`decisions` draws of context, logged action (with its probability) and click."""
    rng = np.random.default_rng(seed)
    context = rng.choice(len(world.contexts), size=decisions, p=world.context_share)
    cumulative = np.cumsum(world.logging, axis=1)[context]
    action = np.minimum((cumulative < rng.random(decisions)[:, None]).sum(axis=1), ACTIONS - 1)
    click = rng.random(decisions) < world.click_rate[context, action]
    frame = world.contexts.iloc[context].reset_index(drop=True)
    frame["action"] = np.asarray(world.actions)[action]
    frame["propensity"] = world.logging[context, action]
    frame["reward"] = click.astype(np.float64)
    return LoggedFeedback.from_frame(
        frame,
        context_columns=CONTEXT_COLUMNS,
        action_column="action",
        propensity_column="propensity",
        reward_column="reward",
        source=f"simulated bandit ({decisions:,} decisions, seed {seed})",
    )
