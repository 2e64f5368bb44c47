"""The ground-truth file: one Parquet row per simulated decision, keyed by decision_id.

Each row says who was decided for only as a segment (no user id: the decision_id joins it
to the server's decision and outcome logs), what the server showed and why, the true click
probability of what it showed and of the best content it could have shown, and what the
simulated user did. Column meanings are in COLUMNS.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from training.traffic.exchange import Answer
from training.traffic.moment import Moment
from training.traffic.population import SimUser
from training.traffic.reaction import Reaction

COLUMNS = {
    "decision_id": "the server's decision id (joins the decision and outcome logs)",
    "decision_index": "position of the decision in the run (same seed: same user, moment and random numbers)",
    "occurred_at": "the simulated client time of the decision (UTC)",
    "segment": "the user's lifecycle segment",
    "consent": "whether the user granted personalization consent",
    "placement": "placement asked for",
    "region": "context.region sent",
    "device": "context.device sent",
    "channel": "context.channel sent",
    "cart_items": "items in the cart sent (0 = no cart)",
    "cart_value": "value of the cart sent",
    "source": "tier kind that decided: RULE, MODEL, DEFAULT or OTHER",
    "tier": "name of the configured tier that decided",
    "rule_id": "rule that decided (RULE only, else empty)",
    "model_version": "model version that ranked (MODEL only, else empty)",
    "items": "number of items shown",
    "content_id": "content shown at rank 1 (null when nothing was shown)",
    "item_probability": "probability with which the server chose the rank-1 item (its propensity)",
    "p_click": "true probability that the user clicks the rank-1 item",
    "click": "whether the user clicked the rank-1 item",
    "expected_clicks": "sum over shown items of their true click probability at their rank",
    "clicks": "items clicked",
    "p_conversion": "true probability of a conversion after a click",
    "conversion": "whether a click led to a purchase",
    "value": "order value of the purchase (0 without one)",
    "best_content_id": "catalog content eligible when the server decided with the highest true P(click) at rank 1",
    "p_best": "its true click probability (regret of this decision = p_best - p_click)",
    "experiment_id": "the experiment the decision was made in (provenance.experiment_id), if any",
    "arm": "the arm it was assigned to (provenance.arm), if any",
    "arm_probability": "the probability of that assignment (provenance.arm_probability), if any",
}


@dataclass(frozen=True)
class Truths:
    """What the ground truth says about one answered decision."""

    click_p: tuple[float, ...]  # per shown item at its rank
    conversion_p: float
    best_content_id: str | None
    best_p: float


class TruthTable:
    """Rows collected during a run, written once at the end."""

    def __init__(self) -> None:
        self._rows: dict[str, list[object]] = {name: [] for name in COLUMNS}

    def __len__(self) -> int:
        return len(self._rows["decision_id"])

    def add(
        self, index: int, user: SimUser, moment: Moment, answer: Answer, truths: Truths, reaction: Reaction
    ) -> None:
        first = answer.items[0] if answer.items else None
        row: dict[str, object] = {
            "decision_id": answer.decision_id,
            "decision_index": index,
            "occurred_at": moment.at,
            "segment": user.segment,
            "consent": user.consent,
            "placement": moment.placement,
            "region": user.region,
            "device": user.device,
            "channel": moment.channel,
            "cart_items": moment.cart_items,
            "cart_value": moment.cart_value,
            "source": answer.source,
            "tier": answer.tier,
            "rule_id": answer.rule_id,
            "model_version": answer.model_version,
            "items": len(answer.items),
            "content_id": first.content_id if first else None,
            "item_probability": first.probability if first else None,
            "p_click": truths.click_p[0] if first else 0.0,
            "click": bool(reaction.clicked and reaction.clicked[0]),
            "expected_clicks": sum(truths.click_p),
            "clicks": sum(reaction.clicked),
            "p_conversion": truths.conversion_p,
            "conversion": reaction.converted_rank is not None,
            "value": reaction.value,
            "best_content_id": truths.best_content_id,
            "p_best": truths.best_p,
            "experiment_id": answer.experiment_id or None,
            "arm": answer.arm or None,
            "arm_probability": answer.arm_probability if answer.experiment_id else None,
        }
        for name, value in row.items():
            self._rows[name].append(value)

    def frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self._rows, columns=list(COLUMNS))
        for name in ("item_probability", "arm_probability"):
            frame[name] = frame[name].astype("float64")
        for name in ("content_id", "best_content_id", "experiment_id", "arm"):
            frame[name] = frame[name].astype("string")
        frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
        return frame

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.frame().to_parquet(path, index=False)
        return path
