"""The Open Bandit Dataset (Saito et al. 2021) as logged feedback, and a check that OPE recovers a known value.

Layout: <root>/<policy>/<campaign>/<campaign>.csv (or .csv.gz) with policy random or bts
and campaign all, men or women; the repository ships the 10,000-row sample as data/obd.
One row is one item shown in one of three slots: `position` (1-3), `item_id`, `click`, and
`propensity_score`, the probability that the logging policy put this item in this slot
(per slot: 1 / n_items under the uniform random policy). So a row is one decision "which
item in slot k", the slot is part of the context, and a target policy must give per-slot
probabilities too, as zr-obp's `OpenBanditDataset` (position as the list axis of
`action_dist`) and its `Random` policy (1 / n_actions per slot) do. The context is the
slot and the four hashed user features; the user-item affinity columns are not used (they
would make every context distinct).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from training.ope.logged import LogError, LoggedFeedback
from training.ope.policies import UniformPolicy
from training.ope.run import OpeConfig, OpeResult, run_ope

CAMPAIGNS = ("all", "men", "women")
CONTEXT_COLUMNS = ("position", "user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3")
#: The sample the repository ships (data/README.md), relative to the repository root.
DEFAULT_ROOT = Path("data/obd")
CHECKED_ESTIMATORS = ("IPS", "SNIPS")
Z_95 = 1.96


def campaign_file(root: Path, policy: str, campaign: str) -> Path:
    """<root>/<policy>/<campaign>/<campaign>.csv[.gz], or an error saying what is missing and what is expected."""
    path = _csv(root / policy / campaign / campaign)
    if path is None:
        raise LogError(
            f"Open Bandit Dataset file {root / policy / campaign / campaign}.csv not found: expected "
            f"<root>/{{random,bts}}/{{all,men,women}}/<campaign>.csv (or .csv.gz) under {root.resolve()} "
            f"(the repository's copy is {DEFAULT_ROOT}, run from the repository root)"
        )
    return path


def _csv(stem: Path) -> Path | None:
    """`stem`.csv, else `stem`.csv.gz, if either is a file."""
    for path in (stem.with_name(stem.name + ".csv"), stem.with_name(stem.name + ".csv.gz")):
        if path.is_file():
            return path
    return None


def read_obd(path: Path) -> LoggedFeedback:
    """One campaign file (or its folder) as logged feedback: context = slot + user features, action = item."""
    if path.is_dir():
        path = _csv(path / path.name) or path / f"{path.name}.csv"
    if not path.is_file():
        raise LogError(f"Open Bandit Dataset file {path} not found (give <policy>/<campaign>/<campaign>.csv[.gz])")
    frame = pd.read_csv(path, index_col=0)
    return LoggedFeedback.from_frame(
        frame,
        context_columns=CONTEXT_COLUMNS,
        action_column="item_id",
        propensity_column="propensity_score",
        reward_column="click",
        source=str(path),
    )


@dataclass(frozen=True)
class UniformCheck:
    """The uniform random policy's click rate estimated from the bts logs, against the random logs' own rate."""

    rows: pd.DataFrame  # one row per campaign and estimator
    results: dict[str, OpeResult]  # campaign -> OPE on its bts logs

    @property
    def passed(self) -> bool:
        """Every IPS and SNIPS estimate within 1.96 combined standard errors of the random logs' rate."""
        checked = self.rows[self.rows["estimator"].isin(CHECKED_ESTIMATORS)]
        return bool(checked["within 1.96 SE"].all())


def uniform_check(root: Path = DEFAULT_ROOT, config: OpeConfig | None = None) -> UniformCheck:
    """For each campaign: OPE of the uniform policy on the bts logs vs the click rate of the random logs.

    Both sides are noisy (38-69 clicks per file), so the yardstick is the combined standard
    error sqrt(SE_ope^2 + SE_random^2) of the difference.
    """
    rows, results = [], {}
    for campaign in CAMPAIGNS:
        random_file = campaign_file(root, "random", campaign)
        logged = read_obd(campaign_file(root, "bts", campaign))
        clicks = pd.read_csv(random_file, usecols=["click"])["click"].to_numpy(dtype=np.float64)
        rate = float(clicks.mean())
        rate_se = float(clicks.std(ddof=1) / np.sqrt(len(clicks)))
        result = run_ope(logged, UniformPolicy(), config)
        results[campaign] = result
        for estimate in result.estimates[:-1]:  # the last row is the bts policy's own mean
            combined = float(np.hypot(estimate.standard_error, rate_se))
            z = (estimate.value - rate) / combined
            rows.append(
                {
                    "campaign": campaign,
                    "estimator": estimate.estimator,
                    "estimate (bts logs)": estimate.value,
                    "SE": estimate.standard_error,
                    "random logs' rate": rate,
                    "random SE": rate_se,
                    "z": z,
                    "ESS": estimate.effective_sample,
                    "flag": estimate.flag or "ok",
                    "within 1.96 SE": bool(abs(z) <= Z_95),
                }
            )
    return UniformCheck(pd.DataFrame(rows), results)
