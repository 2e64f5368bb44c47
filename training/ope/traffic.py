"""The champion's served traffic for the off-policy gate: which decisions, and what to rebuild them from.

The gate needs the joined table (`training join`: the champion's decisions, their
propensities and rewards) and the event log the service's profiles came from: training's
event log plus the served traffic's own clicks and purchases, pseudonymized with the same
key and without forgotten users, exactly as `training train --served` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from decision.sources.forgotten import read_keys
from training import defaults
from training.io import DataPaths, Inputs, load
from training.ope.gate import DEFAULT_ESTIMATOR, GateError, GateVerdict, champion_decisions, ope_gate
from training.ope.rescore import first_choices
from training.ope.run import OpeConfig
from training.registry import LoadedModel
from training.schema import BadRowPolicy
from training.served.events import served_events


@dataclass(frozen=True)
class ChampionTraffic:
    """Where the champion's decisions and the events behind them are, and how to judge."""

    joined: Path
    data: DataPaths
    user_key_path: Path = defaults.USER_KEY_PATH
    forgotten_path: Path = defaults.FORGOTTEN_PATH
    estimator: str = DEFAULT_ESTIMATOR
    margin: float = 0.0
    config: OpeConfig = field(default_factory=OpeConfig)

    def gate(self, model_name: str, candidate: LoadedModel, champion: LoadedModel) -> GateVerdict:
        """Re-score the champion's decisions with both models and run the off-policy gate."""
        if not self.joined.is_file():
            raise GateError(f"joined table {self.joined} not found: write it with `training join`")
        decisions = champion_decisions(pd.read_parquet(self.joined), model_name, champion.version)
        inputs = replay_inputs(self.joined, self.data, self.user_key_path, self.forgotten_path)
        candidate_choices = first_choices(candidate, decisions, inputs.events, inputs.catalog)
        champion_choices = first_choices(champion, decisions, inputs.events, inputs.catalog)
        return ope_gate(decisions, candidate_choices, champion_choices, self.estimator, self.margin, self.config)


def replay_inputs(
    joined: Path,
    data: DataPaths,
    user_key_path: Path = defaults.USER_KEY_PATH,
    forgotten_path: Path = defaults.FORGOTTEN_PATH,
) -> Inputs:
    """The events the served profiles came from (training's log plus the served clicks and purchases)."""
    return load(
        data,
        defaults.pseudonymizer(user_key_path),
        BadRowPolicy.DROP,
        [served_events(joined)],
        read_keys(forgotten_path),
    )
