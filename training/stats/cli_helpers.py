"""Small pieces the `training experiments` commands need: parsing their options and the plan's text."""

from __future__ import annotations

from training.report.table import render_frame
from training.stats.power import Plan


def parse_weights(text: str) -> dict[str, float]:
    """'control=0.5,b=0.5' -> {'control': 0.5, 'b': 0.5}; the error names the bad part."""
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        arm, sep, value = part.partition("=")
        if not sep or not arm.strip():
            raise ValueError(f"weights: {part!r} is not ARM=WEIGHT (example: control=0.5,b=0.5)")
        try:
            weights[arm.strip()] = float(value)
        except ValueError:
            raise ValueError(f"weights: {part!r} has a weight that is not a number") from None
    if not weights:
        raise ValueError("weights: none given (example: control=0.5,b=0.5)")
    return weights


def plan_text(plan: Plan) -> str:
    """What `training experiments plan` prints: the inputs in words, then both designs side by side."""
    i = plan.inputs
    head = (
        f"baseline {i.baseline_rate:.4g} -> {plan.target_rate:.4g} (relative lift {i.minimum_detectable_effect:+.1%}), "
        f"alpha {i.alpha} over {i.comparisons} comparison(s) = {plan.adjusted_alpha:.4g} per comparison, "
        f"power {i.power}, {i.arms} arms, {i.daily_eligible:,.0f} eligible a day × coverage {i.coverage}"
    )
    cost = plan.sequential_users_per_arm / plan.fixed_users_per_arm - 1
    tail = f"reading results daily (sequential) costs {cost:.0%} more users than a single look at the end"
    return "\n".join([head, "", render_frame(plan.table(), text_columns=1, digits=3), "", tail])
