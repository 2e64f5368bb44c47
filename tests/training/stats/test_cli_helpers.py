"""Option parsing and the plan's text for the `training experiments` commands."""

from __future__ import annotations

import pytest

from training.stats.cli_helpers import parse_weights, plan_text
from training.stats.power import plan


def test_weights_parse_and_errors_show_an_example() -> None:
    assert parse_weights("control=0.5, b=0.25,c=0.25") == {"control": 0.5, "b": 0.25, "c": 0.25}
    with pytest.raises(ValueError, match=r"weights: 'b' is not ARM=WEIGHT \(example: control=0.5,b=0.5\)"):
        parse_weights("control=0.5,b")
    with pytest.raises(ValueError, match="weights: 'b=half' has a weight that is not a number"):
        parse_weights("b=half")
    with pytest.raises(ValueError, match="weights: none given"):
        parse_weights(" , ")


def test_plan_text_shows_both_designs_and_the_cost_of_peeking() -> None:
    text = plan_text(plan(0.05, 0.10, comparisons=5, daily_eligible=20_000))
    assert "fixed horizon (one look)" in text
    assert "sequential (daily looks)" in text
    assert "costs 67% more users" in text
    assert "0.05 -> 0.055" in text
