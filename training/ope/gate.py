"""The off-policy promotion gate: a challenger's estimated value on the champion's own traffic.

The champion served decisions (with exploration, so other choices had a chance); each is
re-scored offline by the challenger and by the champion itself, both choices become
context columns, and the deterministic policies "take the challenger's choice" and "take
the champion's choice" are evaluated with the same estimator on the same decisions.

The gate passes when the challenger's lower bound beats both the champion's logged value
(the mean reward of its decisions) and the champion's own estimated value, by the margin,
and the estimate is not flagged as too thin (effective sample size, positive rewards).
Both bars are needed: the logged value includes the exploration's cost, so a copy of the
champion would beat it; the champion's estimate is computed exactly as the challenger's,
so any error of the offline re-scoring weighs on both sides. The gate fails closed: no
champion traffic, or traffic logged without exploration, is a failed gate with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from training.ope.joined import CONTEXT_COLUMNS
from training.ope.logged import LogError, LoggedFeedback
from training.ope.policies import ChosenActionPolicy
from training.ope.run import ESTIMATORS, LOGGED, Estimate, OpeConfig, OpeResult, run_ope

CHALLENGER = "challenger_choice"
CHAMPION = "champion_choice"
DEFAULT_ESTIMATOR = "DR"


class GateError(ValueError):
    """The gate cannot be evaluated as asked (no such decisions, unknown estimator); the message says what to do."""


@dataclass(frozen=True)
class GateVerdict:
    """What the gate saw and decided; `passed` only with an unflagged estimate whose low end clears the bar."""

    estimator: str
    challenger: Estimate
    champion: Estimate  # the champion's own choices, estimated as the challenger's
    logged: Estimate  # the logged decisions' mean reward (exploration included), with its interval
    margin: float
    decisions: int
    explored: int  # decisions whose first item was drawn with probability < 1
    agreement: float  # share of decisions where the challenger picks what was shown
    passed: bool
    reason: str
    result: OpeResult  # the challenger's full evaluation (every estimator), for reports

    def summary(self, challenger: str, champion: str) -> str:
        width = max(len(challenger), len(champion)) + 10

        def line(label: str, e: Estimate) -> str:
            flag = f"  ({e.flag})" if e.flag else ""
            return f"  {label:<{width}} {e.value:.4f}  [{e.low:.4f}, {e.high:.4f}]  ESS {e.effective_sample:,.0f}{flag}"

        return "\n".join(
            [
                f"off-policy gate: {self.estimator} on {self.decisions:,} decisions of {champion} "
                f"({self.explored:,} logged with probability < 1; "
                f"{challenger} picks the shown item in {self.agreement:.1%})",
                line(f"{challenger} ({self.estimator})", self.challenger),
                line(f"{champion} ({self.estimator})", self.champion),
                line(f"{champion} (logged)", self.logged),
                f"  gate: {self.reason}",
            ]
        )


def champion_decisions(joined: pd.DataFrame, model_name: str, version: str) -> pd.DataFrame:
    """The decisions `model_name` v`version` made itself (the model tier answered; not rules, not arms)."""
    needed = {"source", "model_name", "model_version", "content_id", "item_probability", "reward"}
    missing = sorted(needed - set(joined.columns))
    if missing:
        raise GateError(f"the joined table lacks {', '.join(missing)}; write it with `training join`")
    mine = joined[
        (joined["source"] == "MODEL")
        & (joined["model_name"] == model_name)
        & (joined["model_version"] == version)
        & (joined["content_id"] != "")
    ]
    if mine.empty:
        raise GateError(
            f"no decisions of {model_name} v{version} (the champion) in the joined table: serve it, "
            "report outcomes, then `training join`"
        )
    return mine.reset_index(drop=True)


def logged_with_choices(decisions: pd.DataFrame, choice_columns: Sequence[str]) -> LoggedFeedback:
    """Decisions of the joined table as logged feedback over shown content, each model's choice a context column."""
    chosen = sorted({str(c) for column in choice_columns for c in decisions[column]})
    try:
        return LoggedFeedback.from_frame(
            decisions,
            context_columns=(*CONTEXT_COLUMNS, *choice_columns),
            action_column="content_id",
            propensity_column="item_probability",
            reward_column="reward",
            source="the model's served decisions",
            actions=chosen,
        )
    except LogError as exc:
        raise GateError(str(exc)) from exc


def ope_gate(
    decisions: pd.DataFrame,
    challenger_choices: Sequence[str],
    champion_choices: Sequence[str],
    estimator: str = DEFAULT_ESTIMATOR,
    margin: float = 0.0,
    config: OpeConfig | None = None,
) -> GateVerdict:
    """Evaluate both models' choices (one per row of the champion's `decisions`) and judge."""
    if estimator not in ESTIMATORS:
        raise GateError(f"unknown estimator {estimator!r}; choose one of {', '.join(ESTIMATORS)}")
    if not len(challenger_choices) == len(champion_choices) == len(decisions):
        raise GateError(
            f"{len(challenger_choices)} challenger and {len(champion_choices)} champion choices "
            f"for {len(decisions)} decisions"
        )
    frame = decisions.assign(**{CHALLENGER: list(challenger_choices), CHAMPION: list(champion_choices)})
    logged = logged_with_choices(frame, (CHALLENGER, CHAMPION))
    config = config or OpeConfig()
    if estimator not in config.estimators:
        config = OpeConfig(**{**config.__dict__, "estimators": (*config.estimators, estimator)})
    result = run_ope(logged, ChosenActionPolicy(CHALLENGER, name="challenger"), config)
    own = run_ope(logged, ChosenActionPolicy(CHAMPION, name="champion"), config)
    challenger, champion, logged_value = result.estimate(estimator), own.estimate(estimator), result.estimate(LOGGED)
    explored = int((logged.propensity < 1.0).sum())
    agreement = float((frame["content_id"].to_numpy() == frame[CHALLENGER].to_numpy()).mean())
    passed, reason = _judge(challenger, champion, logged_value, margin, explored)
    return GateVerdict(
        estimator,
        challenger,
        champion,
        logged_value,
        margin,
        logged.decisions,
        explored,
        agreement,
        passed,
        reason,
        result,
    )


def _judge(
    challenger: Estimate, champion: Estimate, logged: Estimate, margin: float, explored: int
) -> tuple[bool, str]:
    if explored == 0:
        return False, (
            "failed: the champion's decisions were logged without exploration (probability 1), so they say "
            "nothing about other choices; set DECISION_MODEL_EXPLORATION (e.g. epsilon:0.05) and collect more"
        )
    if challenger.flag:
        return False, f"failed: the estimate is too thin to trust ({challenger.flag}); collect more traffic"
    bar = max(champion.value, logged.value)
    which = "estimated" if champion.value >= logged.value else "logged"
    verdict = f"lower bound {challenger.low:.4f} vs the champion's {which} {bar:.4f} + margin {margin}"
    if challenger.low > bar + margin:
        return True, f"passed: {verdict}"
    return False, f"failed: {verdict}"
