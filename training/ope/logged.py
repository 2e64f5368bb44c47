"""Logged bandit feedback: per decision its context, the action taken, the probability it was taken with, the reward.

Contexts are categorical (placement, region, device, ... as strings) and kept once per
distinct combination: a target policy and the reward model are evaluated per distinct
context, not per decision, which is what keeps a million decisions cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


class LogError(ValueError):
    """Logged feedback that cannot be evaluated; the message names the file, column and row."""


@dataclass(frozen=True)
class LoggedFeedback:
    """n logged decisions over a fixed action set."""

    contexts: pd.DataFrame  # one row per distinct context, string columns
    context_index: np.ndarray  # (n,) row of `contexts` each decision was made in
    actions: tuple[str, ...]  # the logged action set, sorted
    action: np.ndarray  # (n,) index into `actions`
    propensity: np.ndarray  # (n,) probability the logging policy gave the logged action, in (0, 1]
    reward: np.ndarray  # (n,) observed reward
    source: str  # where the decisions came from (a file), for reports and messages

    @property
    def decisions(self) -> int:
        return len(self.action)

    @property
    def context_columns(self) -> list[str]:
        return [str(c) for c in self.contexts.columns]

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        context_columns: Sequence[str],
        action_column: str,
        propensity_column: str,
        reward_column: str,
        source: str,
        actions: Sequence[str] = (),
    ) -> LoggedFeedback:
        """Validate one row per decision and encode it; every problem names `source`, the column and a row.

        `actions` adds actions that were never logged but a target policy may take (their
        decisions then weigh nothing for IPS: no logged evidence about them).
        """
        needed = [*context_columns, action_column, propensity_column, reward_column]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise LogError(
                f"{source}: missing column(s) {', '.join(missing)}; it has {', '.join(map(str, frame.columns))}"
            )
        if frame.empty:
            raise LogError(f"{source}: no decisions to evaluate (0 rows after filtering)")
        propensity = _numbers(frame, propensity_column, source)
        reward = _numbers(frame, reward_column, source)
        _refuse_rows(frame, ~((propensity > 0.0) & (propensity <= 1.0)), propensity_column, source, "in (0, 1]")
        logged = frame[action_column].astype(str).to_numpy()
        actions_all = np.unique(np.concatenate([logged, np.asarray(list(actions), dtype=logged.dtype)]))
        action = np.searchsorted(actions_all, logged)
        contexts, context_index = _distinct_contexts(frame, list(context_columns))
        return cls(
            contexts=contexts,
            context_index=context_index,
            actions=tuple(str(a) for a in actions_all),
            action=action.astype(np.int64),
            propensity=propensity,
            reward=reward,
            source=source,
        )


def _numbers(frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
    _refuse_rows(frame, ~np.isfinite(values), column, source, "a finite number")
    return values


def _refuse_rows(frame: pd.DataFrame, bad: np.ndarray, column: str, source: str, expected: str) -> None:
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        value = frame[column].iloc[first]
        value = value.item() if isinstance(value, np.generic) else value  # 0.0, not np.float64(0.0)
        raise LogError(
            f"{source}: column {column} must be {expected}; {int(bad.sum())} row(s) are not, "
            f"first at row {frame.index[first]!r}: {value!r}"
        )


def _distinct_contexts(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Distinct context rows (in order of first appearance) and each decision's row among them."""
    if not columns:
        return pd.DataFrame(index=pd.RangeIndex(1)), np.zeros(len(frame), dtype=np.int64)
    keys = frame[columns].astype(str)
    index = keys.groupby(columns, sort=False).ngroup().to_numpy(dtype=np.int64)
    _, first = np.unique(index, return_index=True)
    return keys.iloc[first].reset_index(drop=True), index
