"""The champion/challenger gate: a new version must beat the champion on the same rows.

Both models are scored on the candidate's held-out test set (logged with its run), with
the same candidate rows and metric code as training's evaluation (so both must read rows
alike: the same feature set and spec layout). The candidate
becomes `champion` if candidate > champion + margin (the first model always does),
otherwise `challenger`. `force` promotes regardless and says so in a version tag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from training import defaults, registry
from training.evaluate import METRICS, hits, ranks
from training.features import Dataset
from training.train import predict

LOWER_IS_BETTER: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Verdict:
    version: str
    champion: str | None  # the version that was champion before
    metric: str
    candidate_value: float
    champion_value: float | None
    margin: float
    promoted: bool
    forced: bool
    reason: str

    def summary(self) -> str:
        old = "—" if self.champion_value is None else f"{self.champion_value:.4f}"
        who = f"champion v{self.champion}" if self.champion else "no champion"
        outcome = f"v{self.version} is now {registry.CHAMPION if self.promoted else registry.CHALLENGER}"
        return (
            f"{self.metric} on v{self.version}'s test set: candidate v{self.version} "
            f"{self.candidate_value:.4f} vs {who} {old} (margin {self.margin})\n"
            f"verdict: {self.reason}; {outcome}"
        )


def promote(
    tracking_uri: str,
    model_name: str,
    version: str | None = None,
    metric: str = "hr1",
    margin: float = 0.005,
    force: bool = False,
) -> Verdict:
    """Compare, decide, and move the aliases; tags record the figures and any force."""
    if metric not in METRICS:
        raise defaults.RegistryError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    client = registry.connect(tracking_uri)
    version = version or registry.latest_version(client, model_name)
    candidate = registry.load_model(client, model_name, version)
    test = registry.load_test_set(client, candidate.run_id)
    value = _value(candidate, test, metric)
    current = registry.alias_version(client, model_name, registry.CHAMPION)
    old_value: float | None = None
    if current is None:
        promoted, reason = True, "first model, promoted"
    elif current == version:
        promoted, reason = True, "already the champion"
    else:
        champion = registry.load_model(client, model_name, current)
        if champion.feature_set_version != candidate.feature_set_version:
            promoted, reason = (
                False,
                (
                    f"not comparable: champion uses feature set {champion.feature_set_version}, "
                    f"candidate {candidate.feature_set_version} (use --force to switch)"
                ),
            )
        elif champion.spec_layout != candidate.spec_layout:
            promoted, reason = (
                False,
                (
                    f"not comparable: champion's feature spec layout is {champion.spec_layout}, the "
                    f"candidate's {candidate.spec_layout} (other vocabularies; use --force to switch)"
                ),
            )
        else:
            old_value = _value(champion, test, metric)
            promoted = _beats(value, old_value, margin, metric)
            reason = "better, promoted" if promoted else "not better by the margin, kept champion"
    forced = force and not promoted
    if forced:
        promoted, reason = True, f"FORCED ({reason})"
    tags = {
        "promotion": registry.CHAMPION if promoted else registry.CHALLENGER,
        "promotion_metric": metric,
        "promotion_value": f"{value:.6f}",
        "promotion_champion_value": "" if old_value is None else f"{old_value:.6f}",
        "promotion_previous_champion": current or "",
        "promotion_forced": "true" if forced else "false",
    }
    alias = registry.CHAMPION if promoted else registry.CHALLENGER
    registry.record(client, model_name, version, alias, tags)
    return Verdict(version, current, metric, value, old_value, margin, promoted, forced, reason)


def _value(model: registry.LoadedModel, test: registry.TestSet, metric: str) -> float:
    n = len(test.label_row)
    rows = Dataset(
        test.X, np.zeros(len(test.X), dtype=np.int64), test.starts, np.zeros(n), test.label_row, pd.DataFrame()
    )
    per_decision = hits(ranks(rows, predict(model.booster, test.X)))
    return float(per_decision[:, METRICS.index(metric)].mean()) if n else float("nan")


def _beats(new: float, old: float, margin: float, metric: str) -> bool:
    if metric in LOWER_IS_BETTER:
        return new < old - margin
    return new > old + margin
