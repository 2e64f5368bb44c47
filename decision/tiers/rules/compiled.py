"""The immutable result of compiling a ruleset, shared by engine, reference and store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from decision.conditions.condition import Condition
from decision.conditions.facts import Slot
from decision.tiers.rules.schema import CaseModel


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """One rule, checked: placements/window already resolved, condition typed."""

    id: str
    priority: int
    order: int
    file: str
    line: int
    condition: Condition | None
    placements: frozenset[str] | None
    active_from: float | None
    active_until: float | None
    content_ids: tuple[str, ...]
    parameters: Mapping[str, str]
    description: str = ""


@dataclass(frozen=True, slots=True)
class Case:
    """One `tests:` entry, with where it came from (`file::name` is its id)."""

    file: str
    line: int
    spec: CaseModel

    @property
    def case_id(self) -> str:
        return f"{self.file.rsplit('/', 1)[-1]}::{self.spec.name}"


@dataclass(frozen=True, slots=True)
class CompiledRuleset:
    """A whole ruleset version; `definitions` are durable-rules JSON chunks, best rules first."""

    version: str
    content_hash: str
    rules: tuple[CompiledRule, ...]
    slots: tuple[Slot, ...]
    keys: Mapping[str, str]
    definitions: tuple[Mapping[str, Any], ...]
    cases: tuple[Case, ...]

    def key_of(self, field: str) -> str:
        """The event key a referenced field travels under."""
        return self.keys[field]
