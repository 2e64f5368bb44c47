"""Compiled rules → the durable-rules JSON ruleset definition.

Negations are pushed down to the leaves (`not (a > 1)` → `a <= 1`), since durable-rules has
no `not`. Missing fields make a comparison unknown, as in SQL: its negation is unknown too,
so `not` never matches a request that lacks the field; `missing` tests absence. Every rule
also requires its placement and window, and a catch-all rule is compiled last with the
lowest priority so that every post matches (docs/hazards.md#engine-no-match-free).

The engine walks matching alpha nodes with a fixed stack of 64 (`MAX_STACK_SIZE`, error 303;
a `delete_state` after that error frees an invalid pointer and aborts the process). The
stack never holds more nodes than there are condition alternatives that can be true at
once, so rules are split, in winning order, into chunks of at most CHUNK_BUDGET such
alternatives; each chunk is its own engine ruleset, posted to in order until one decides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from decision.conditions.condition import AllOf, AnyOf, Compare, Condition, Exists, Not
from decision.conditions.facts import LIVE_KEY, NOW_KEY
from decision.tiers.rules.arbitrate import ranked
from decision.tiers.rules.compiled import CompiledRule

CATCH_ALL = "__no_rule__"
CHUNK_BUDGET = 48  # below the engine's 64, leaving room for shared prefix nodes
_NEGATE = {
    "==": "!=",
    "!=": "==",
    "<": ">=",
    "<=": ">",
    ">": "<=",
    ">=": "<",
    "in": "not_in",
    "not_in": "in",
}
_OPS = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
Json = dict[str, Any]
KeyOf = Callable[[str], str]


def _compare(key: str, op: str, value: Any) -> Json:
    if op in ("in", "not_in") and len(value) == 1:
        return _compare(key, "==" if op == "in" else "!=", value[0])
    if op == "==":
        return {key: value}
    if op == "in":
        return {"$or": [{key: v} for v in value]}
    if op == "not_in":
        return {"$and": [{"$neq": {key: v}} for v in value]}
    return {_OPS[op]: {key: value}}


def to_json(condition: Condition, key_of: KeyOf, negate: bool = False) -> Json:
    """One condition in durable-rules syntax, with `not` pushed to the leaves."""
    if isinstance(condition, Compare):
        op = _NEGATE[condition.op] if negate else condition.op
        return _compare(key_of(condition.field), op, condition.value)
    if isinstance(condition, Exists):
        present = condition.present != negate
        return {"$ex" if present else "$nex": {key_of(condition.field): 1}}
    if isinstance(condition, Not):
        return to_json(condition.item, key_of, not negate)
    parts = [to_json(item, key_of, negate) for item in condition.items]
    is_and = isinstance(condition, AllOf) != negate
    if len(parts) == 1:
        return parts[0]
    assert isinstance(condition, AllOf | AnyOf)
    return {"$and" if is_and else "$or": parts}


def _rule_json(rule: CompiledRule, key_of: KeyOf) -> Json:
    parts: list[Json] = [{"$ex": {LIVE_KEY: 1}}]
    if rule.placements is not None:
        parts.append(_compare(key_of("placement"), "in", sorted(rule.placements)))
    if rule.active_from is not None:
        parts.append({"$gte": {NOW_KEY: rule.active_from}})
    if rule.active_until is not None:
        parts.append({"$lt": {NOW_KEY: rule.active_until}})
    if rule.condition is not None:
        parts.append(to_json(rule.condition, key_of))
    return parts[0] if len(parts) == 1 else {"$and": parts}


def alternatives(condition: Condition | None, negate: bool = False) -> int:
    """How many alternatives of a condition can hold at once (equalities on one field exclude)."""
    if condition is None or isinstance(condition, Compare | Exists):
        return 1
    if isinstance(condition, Not):
        return alternatives(condition.item, not negate)
    counts = [alternatives(item, negate) for item in condition.items]
    if isinstance(condition, AllOf) != negate:
        product = 1
        for count in counts:
            product *= count
        return product
    return sum(counts)


def _chunk(rules: list[CompiledRule], key_of: KeyOf) -> dict[str, Json]:
    result: dict[str, Json] = {}
    for pri, rule in enumerate(rules):
        result[rule.id] = {"all": [{"m": _rule_json(rule, key_of)}], "pri": pri}
    result[CATCH_ALL] = {"all": [{"m": {"$ex": {LIVE_KEY: 1}}}], "pri": len(rules)}
    return result


def definitions(rules: tuple[CompiledRule, ...], key_of: KeyOf, budget: int = CHUNK_BUDGET) -> list[dict[str, Json]]:
    """Engine rulesets, best rules first; each: its rules with `pri` 0..n-1, then the catch-all.

    Every rule must fit the budget on its own (the compiler checks it first).
    """
    chunks: list[list[CompiledRule]] = [[]]
    used = 0
    for rule in ranked(rules):
        cost = alternatives(rule.condition)
        if chunks[-1] and used + cost > budget:
            chunks.append([])
            used = 0
        chunks[-1].append(rule)
        used += cost
    return [_chunk(chunk, key_of) for chunk in chunks]
