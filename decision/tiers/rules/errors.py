"""The rules engine's own failure (file problems are decision.conditions.errors.SpecFileError)."""

from __future__ import annotations


class RuleEngineError(Exception):
    """The engine refused or failed one evaluation; carries no engine text (it holds user data)."""
