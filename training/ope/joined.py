"""The project's joined decision table (Parquet, one row per decision) as logged feedback.

Two kinds of action can be evaluated: the first shown item (`content_id`, logged with
`item_probability`) or an experiment's arm (`arm`, logged with `arm_probability`; one
experiment at a time, since arms of different experiments are different actions). The
context is placement, region, device, channel and segment; the reward is `reward`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import pandas as pd

from training.ope.logged import LogError, LoggedFeedback

CONTEXT_COLUMNS = ("placement", "region", "device", "channel", "segment")
ActionKind = Literal["content", "arm"]
_COLUMNS: dict[str, tuple[str, str]] = {
    "content": ("content_id", "item_probability"),
    "arm": ("arm", "arm_probability"),
}


def read_joined(
    path: Path,
    action: ActionKind = "content",
    experiment_id: str | None = None,
    sources: Sequence[str] | None = None,
) -> LoggedFeedback:
    """Decisions from the joined table; `sources` keeps only those tiers' decisions (e.g. MODEL, EXPERIMENT).

    For arms, the decisions of `experiment_id` (required when the table holds several).
    Decisions logged with probability 1 (rules, defaults) only support target policies that
    agree with them there; `sources` is how to leave them out.
    """
    if action not in _COLUMNS:
        raise LogError(f"unknown action kind {action!r}: use 'content' or 'arm'")
    if not path.is_file():
        raise LogError(f"joined table {path} not found (write it with `training join`)")
    action_column, propensity_column = _COLUMNS[action]
    wanted = [*CONTEXT_COLUMNS, action_column, propensity_column, "reward", "source", "experiment_id"]
    frame = pd.read_parquet(path)
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise LogError(f"{path}: missing column(s) {', '.join(missing)}; is this a joined decision table?")
    frame = frame[wanted]
    if sources is not None:
        frame = frame[frame["source"].isin(list(sources))]
    if action == "arm":
        frame = _one_experiment(frame, experiment_id, path)
    return LoggedFeedback.from_frame(
        frame,
        context_columns=CONTEXT_COLUMNS,
        action_column=action_column,
        propensity_column=propensity_column,
        reward_column="reward",
        source=str(path) + (f" (experiment {experiment_id})" if experiment_id else ""),
    )


def _one_experiment(frame: pd.DataFrame, experiment_id: str | None, path: Path) -> pd.DataFrame:
    present = sorted(e for e in frame["experiment_id"].unique() if e)
    if experiment_id is None:
        if len(present) != 1:
            listed = ", ".join(present) or "none"
            raise LogError(f"{path}: name the experiment whose arms to evaluate (experiments in the table: {listed})")
        experiment_id = present[0]
    if experiment_id not in present:
        raise LogError(f"{path}: no decisions of experiment {experiment_id!r}; experiments: {', '.join(present)}")
    return frame[frame["experiment_id"] == experiment_id]
