"""Which matching rule wins: the highest `priority`; on a tie, the rule declared first.

Declaration order is file order (files sorted by name in a folder ruleset), then order
within the file. The engine gets the same order as its `pri` (lowest fires first, docs/hazards.md#engine-priority).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar


class Ranked(Protocol):
    @property
    def priority(self) -> int: ...

    @property
    def order(self) -> int: ...


R = TypeVar("R", bound=Ranked)


def rank_key(rule: Ranked) -> tuple[int, int]:
    return (-rule.priority, rule.order)


def ranked(rules: Iterable[R]) -> list[R]:
    """Rules best first."""
    return sorted(rules, key=rank_key)


def winner(matching: Iterable[R]) -> R | None:
    """The deciding rule among those that match, or None."""
    return min(matching, key=rank_key, default=None)
