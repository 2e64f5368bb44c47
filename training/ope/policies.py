"""Target policies: what is being evaluated, as a probability over the logged actions in each context."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd


class PolicyError(ValueError):
    """A target policy that is not a probability distribution over the actions; the message says where."""


class TargetPolicy(Protocol):
    """Anything that gives, for each context row, a probability for each action (rows sum to 1).

    `contexts` has one row per distinct context (string columns such as placement, region,
    device, channel, segment); the answer has shape (len(contexts), len(actions)), columns in
    the order of `actions`. A model version plugs in by scoring each context row.
    """

    @property
    def name(self) -> str: ...

    def probabilities(self, contexts: pd.DataFrame, actions: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class UniformPolicy:
    """Every logged action with the same probability, whatever the context."""

    name: str = "uniform random"

    def probabilities(self, contexts: pd.DataFrame, actions: Sequence[str]) -> np.ndarray:
        return np.full((len(contexts), len(actions)), 1.0 / len(actions))


@dataclass(frozen=True)
class FixedActionPolicy:
    """Always the same action ("always arm B")."""

    action: str

    @property
    def name(self) -> str:
        return f"always {self.action}"

    def probabilities(self, contexts: pd.DataFrame, actions: Sequence[str]) -> np.ndarray:
        if self.action not in actions:
            raise PolicyError(f"action {self.action!r} was never logged; logged actions: {', '.join(actions)}")
        matrix = np.zeros((len(contexts), len(actions)))
        matrix[:, list(actions).index(self.action)] = 1.0
        return matrix


@dataclass(frozen=True)
class TablePolicy:
    """Probabilities given per context: `table` has the context columns, then one column per action.

    Actions missing from the table get probability 0; a context missing from it is an error
    (a policy must say what it does everywhere the logs went).
    """

    table: pd.DataFrame
    context_columns: tuple[str, ...]
    name: str = "table"

    def probabilities(self, contexts: pd.DataFrame, actions: Sequence[str]) -> np.ndarray:
        keys = list(self.context_columns)
        if not keys:  # one row for every context
            if len(self.table) != 1:
                raise PolicyError(f"policy {self.name}: without context columns the table must have one row")
            row = self.table.reindex(columns=list(actions)).fillna(0.0).to_numpy(dtype=np.float64)
            return np.repeat(row, len(contexts), axis=0)
        missing = [c for c in keys if c not in contexts.columns]
        if missing:
            raise PolicyError(f"policy {self.name}: the logs have no context column(s) {', '.join(missing)}")
        table = self.table.astype({c: str for c in keys}).set_index(keys)
        if table.index.has_duplicates:
            raise PolicyError(f"policy {self.name}: a context appears twice in the table")
        wanted = pd.MultiIndex.from_frame(contexts[keys]) if len(keys) > 1 else pd.Index(contexts[keys[0]])
        rows = table.reindex(wanted)
        absent = rows.isna().all(axis=1).to_numpy()
        if absent.any():
            raise PolicyError(f"policy {self.name}: no probabilities for context {wanted[int(np.argmax(absent))]!r}")
        return rows.reindex(columns=list(actions)).fillna(0.0).to_numpy(dtype=np.float64)


@dataclass(frozen=True)
class ChosenActionPolicy:
    """A deterministic policy whose action in each context is named by one of its columns.

    How a model version is evaluated: its choice for each logged decision (re-scored
    offline) becomes a context column, and this policy takes it with probability 1.
    """

    column: str
    name: str = "chosen action"

    def probabilities(self, contexts: pd.DataFrame, actions: Sequence[str]) -> np.ndarray:
        if self.column not in contexts.columns:
            raise PolicyError(f"policy {self.name}: the logs have no context column {self.column}")
        position = {action: i for i, action in enumerate(actions)}
        chosen = contexts[self.column].astype(str)
        unknown = sorted(set(chosen) - set(position))
        if unknown:
            raise PolicyError(f"policy {self.name}: chooses {', '.join(unknown[:5])}, not in the action set")
        matrix = np.zeros((len(contexts), len(actions)))
        matrix[np.arange(len(contexts)), chosen.map(position).to_numpy(dtype=np.int64)] = 1.0
        return matrix


def checked_probabilities(policy: TargetPolicy, contexts: pd.DataFrame, actions: Sequence[str]) -> np.ndarray:
    """The policy's matrix, refused unless it is (contexts x actions), finite, >= 0 and sums to 1 per row."""
    matrix = np.asarray(policy.probabilities(contexts, actions), dtype=np.float64)
    if matrix.shape != (len(contexts), len(actions)):
        raise PolicyError(
            f"policy {policy.name}: probabilities have shape {matrix.shape}, expected {(len(contexts), len(actions))}"
        )
    bad = ~np.isfinite(matrix).all(axis=1) | (matrix < 0).any(axis=1) | ~np.isclose(matrix.sum(axis=1), 1.0, atol=1e-6)
    if bad.any():
        row = int(np.argmax(bad))
        context = dict(contexts.iloc[row]) if len(contexts.columns) else {}
        raise PolicyError(
            f"policy {policy.name}: probabilities for context {context} are not a distribution "
            f"(sum {matrix[row].sum():.6g}, min {matrix[row].min():.6g}); {int(bad.sum())} context(s) affected"
        )
    return matrix


def policy_from_spec(spec: str) -> TargetPolicy:
    """A policy from a command-line word: `uniform`, `fixed:<action>` or `weights:<action>=<w>,...`.

    `weights:` is a fixed split (an experiment's allocation): the weights are normalized,
    actions not named get 0.
    """
    if spec == "uniform":
        return UniformPolicy()
    if spec.startswith("fixed:") and spec.removeprefix("fixed:"):
        return FixedActionPolicy(spec.removeprefix("fixed:"))
    if spec.startswith("weights:"):
        return _split(spec.removeprefix("weights:"), spec)
    raise PolicyError(
        f"unknown policy {spec!r}: use 'uniform', 'fixed:<action>' (e.g. fixed:B), "
        "'weights:<action>=<weight>,...' (e.g. weights:A=0.2,B=0.8) or 'model:<version>'"
    )


def _split(text: str, spec: str) -> TablePolicy:
    weights: dict[str, float] = {}
    for part in text.split(","):
        action, _, value = part.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        if not action.strip() or not math.isfinite(weight) or weight < 0:
            raise PolicyError(f"policy {spec!r}: {part!r} is not <action>=<weight >= 0>")
        weights[action.strip()] = weight
    total = sum(weights.values())
    if total <= 0:
        raise PolicyError(f"policy {spec!r}: the weights sum to 0")
    table = pd.DataFrame([{action: weight / total for action, weight in weights.items()}])
    return TablePolicy(table, (), name=f"split {', '.join(f'{a} {w / total:.0%}' for a, w in weights.items())}")
