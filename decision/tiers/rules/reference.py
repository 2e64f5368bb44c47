"""A plain-Python evaluator of compiled rules: the oracle for the engine, and `rules explain`.

It reads the same sanitized facts the engine receives, applies SQL-style three-valued
logic (a comparison on a missing field is unknown; `not unknown` is unknown) and picks the
winner with `arbitrate.winner`. It shares no code with `translate.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from decision.conditions.condition import Compare, Condition, leaves
from decision.conditions.evaluate import truth
from decision.conditions.facts import NOW_KEY, Fact
from decision.tiers.rules.arbitrate import winner
from decision.tiers.rules.compiled import CompiledRule, CompiledRuleset


def leaf_lines(condition: Condition | None, facts: Mapping[str, Fact], key_of: Callable[[str], str]) -> list[str]:
    """One line per comparison: the request's value and the comparison's truth (for explain)."""
    lines = []
    for leaf in leaves(condition):
        value = facts.get(key_of(leaf.field))
        test = f"{leaf.op} {leaf.value!r}" if isinstance(leaf, Compare) else ("exists" if leaf.present else "missing")
        result = truth(leaf, facts, key_of)
        shown = "missing" if value is None else repr(value)
        lines.append(f"{leaf.field} {test}: {shown} -> {_WORD[result]}")
    return lines


_WORD = {True: "true", False: "false", None: "unknown"}


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why one rule does or does not apply to one request."""

    rule: CompiledRule
    matches: bool
    reason: str


def verdict(rule: CompiledRule, facts: Mapping[str, Fact], key_of: Callable[[str], str]) -> Verdict:
    if rule.placements is not None and facts.get(key_of("placement")) not in rule.placements:
        return Verdict(rule, False, f"placement not in {sorted(rule.placements)}")
    now = facts[NOW_KEY]
    assert isinstance(now, float)
    if rule.active_from is not None and now < rule.active_from:
        return Verdict(rule, False, "not active yet")
    if rule.active_until is not None and now >= rule.active_until:
        return Verdict(rule, False, "no longer active")
    if rule.condition is None:
        return Verdict(rule, True, "no condition")
    result = truth(rule.condition, facts, key_of)
    if result is None:
        return Verdict(rule, False, "condition unknown: a field it needs is missing")
    return Verdict(rule, result, "condition true" if result else "condition false")


def verdicts(ruleset: CompiledRuleset, facts: Mapping[str, Fact]) -> list[Verdict]:
    """A verdict for every rule, in declaration order."""
    return [verdict(rule, facts, ruleset.key_of) for rule in ruleset.rules]


def decide(ruleset: CompiledRuleset, facts: Mapping[str, Fact]) -> CompiledRule | None:
    """The winning rule for these facts, or None."""
    return winner(v.rule for v in verdicts(ruleset, facts) if v.matches)
