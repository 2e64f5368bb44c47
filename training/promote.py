"""The champion/challenger gates: a new version must beat the champion on the same rows.

Offline (the default): both models are scored on the candidate's held-out test set (logged
with its run), with the same candidate rows and metric code as training's evaluation (so
both must read rows alike: the same feature set and spec layout), and the candidate must
beat the champion by `margin`. Off-policy (`gate="ope"`, or "both"):
both models re-score the champion's own served decisions, and the candidate's estimated
value's lower bound must beat the champion's (training/ope/gate.py). The candidate becomes
`champion` if every chosen gate passes (the first model always does), otherwise
`challenger`. `force` promotes regardless and says so in a version tag; tags record every
figure either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from training import defaults, registry
from training.evaluate import METRICS, hits, ranks
from training.features import Dataset
from training.ope.gate import GateVerdict
from training.ope.traffic import ChampionTraffic
from training.train import predict

LOWER_IS_BETTER: frozenset[str] = frozenset()
Gate = Literal["offline", "ope", "both"]
GATES: tuple[Gate, ...] = ("offline", "ope", "both")


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
    off_policy: GateVerdict | None = None  # the OPE gate's figures, when it ran

    def summary(self) -> str:
        old = "—" if self.champion_value is None else f"{self.champion_value:.4f}"
        who = f"champion v{self.champion}" if self.champion else "no champion"
        outcome = f"v{self.version} is now {registry.CHAMPION if self.promoted else registry.CHALLENGER}"
        lines = [
            f"{self.metric} on v{self.version}'s test set: candidate v{self.version} "
            f"{self.candidate_value:.4f} vs {who} {old} (margin {self.margin})"
        ]
        if self.off_policy is not None:
            lines.append(self.off_policy.summary(f"candidate v{self.version}", f"champion v{self.champion}"))
        lines.append(f"verdict: {self.reason}; {outcome}")
        return "\n".join(lines)


def promote(
    tracking_uri: str,
    model_name: str,
    version: str | None = None,
    metric: str = "hr1",
    margin: float = 0.005,
    force: bool = False,
    gate: Gate = "offline",
    traffic: ChampionTraffic | None = None,
) -> Verdict:
    """Compare, decide, and move the aliases; tags record the figures and any force.

    `traffic` (the champion's served decisions and what to rebuild them from) is needed by
    the off-policy gate.
    """
    if metric not in METRICS:
        raise defaults.RegistryError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    if gate not in GATES:
        raise defaults.RegistryError(f"unknown gate {gate!r}; choose one of {', '.join(GATES)}")
    if gate != "offline" and traffic is None:
        raise defaults.RegistryError(f"the {gate} gate needs the champion's served traffic (--joined)")
    client = registry.connect(tracking_uri)
    version = version or registry.latest_version(client, model_name)
    candidate = registry.load_model(client, model_name, version)
    test = registry.load_test_set(client, candidate.run_id)
    value = _value(candidate, test, metric)
    current = registry.alias_version(client, model_name, registry.CHAMPION)
    old_value: float | None = None
    off_policy: GateVerdict | None = None
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
            offline = _beats(value, old_value, margin, metric)
            if gate != "offline" and traffic is not None:
                off_policy = traffic.gate(model_name, candidate, champion)
            promoted, reason = _decide(gate, offline, off_policy)
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
        "promotion_gate": gate,
        **(_gate_tags(off_policy) if off_policy is not None else {}),
    }
    alias = registry.CHAMPION if promoted else registry.CHALLENGER
    registry.record(client, model_name, version, alias, tags)
    return Verdict(version, current, metric, value, old_value, margin, promoted, forced, reason, off_policy)


def _decide(gate: Gate, offline: bool, off_policy: GateVerdict | None) -> tuple[bool, str]:
    """Every chosen gate must pass; the reason names each one's result."""
    offline_says = "better offline" if offline else "not better offline by the margin"
    if gate == "offline" or off_policy is None:
        return offline, "better, promoted" if offline else "not better by the margin, kept champion"
    ope_says = "off-policy gate passed" if off_policy.passed else "off-policy gate failed"
    passed = off_policy.passed and (offline or gate == "ope")
    said = ope_says if gate == "ope" else f"{offline_says}, {ope_says}"
    return passed, f"{said}, {'promoted' if passed else 'kept champion'}"


def _gate_tags(verdict: GateVerdict) -> dict[str, str]:
    """The off-policy figures as version tags (MLflow keeps strings)."""
    return {
        "ope_estimator": verdict.estimator,
        "ope_candidate_value": f"{verdict.challenger.value:.6f}",
        "ope_candidate_low": f"{verdict.challenger.low:.6f}",
        "ope_candidate_high": f"{verdict.challenger.high:.6f}",
        "ope_champion_value": f"{verdict.champion.value:.6f}",
        "ope_champion_logged_value": f"{verdict.logged.value:.6f}",
        "ope_decisions": str(verdict.decisions),
        "ope_explored": str(verdict.explored),
        "ope_effective_sample": f"{verdict.challenger.effective_sample:.1f}",
        "ope_passed": "true" if verdict.passed else "false",
        "ope_reason": verdict.reason,
    }


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
