"""Three-valued truth of a condition over typed facts: the rules' oracle and explain, experiments' targeting.

SQL-style logic: a comparison on a missing field is unknown; `not unknown` is unknown; `all`
is false if any item is false, `any` true if any item is true. A caller that needs a plain
yes/no treats unknown as no (the engine does the same: a rule on a missing field does not fire).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping

from decision.conditions.condition import AllOf, AnyOf, Compare, Condition, Exists, Not
from decision.conditions.facts import Fact

Truth = bool | None  # None = unknown
_CMP: dict[str, Callable[[Fact, Fact], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def truth(condition: Condition, facts: Mapping[str, Fact], key_of: Callable[[str], str]) -> Truth:
    """Three-valued truth of `condition` over `facts`."""
    if isinstance(condition, Exists):
        return (key_of(condition.field) in facts) == condition.present
    if isinstance(condition, Compare):
        value = facts.get(key_of(condition.field))
        if value is None:
            return None
        if condition.op in ("in", "not_in"):
            assert isinstance(condition.value, tuple)
            return (value in condition.value) == (condition.op == "in")
        assert not isinstance(condition.value, tuple)
        return _CMP[condition.op](value, condition.value)
    if isinstance(condition, Not):
        inner = truth(condition.item, facts, key_of)
        return None if inner is None else not inner
    values = [truth(item, facts, key_of) for item in condition.items]
    if isinstance(condition, AllOf):
        return False if False in values else (None if None in values else True)
    assert isinstance(condition, AnyOf)
    return True if True in values else (None if None in values else False)
