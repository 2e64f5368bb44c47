"""Located errors for rule files: every problem names the file, the line, the rule and why."""

from __future__ import annotations

from collections.abc import Sequence


class RuleFileError(Exception):
    """One problem in a rule file, or (via `problems`) every problem found in one load.

    `str()` gives `file:line: rule <id>: reason`, one line per problem, so operators can
    jump to the spot; `problems` always holds at least this error itself.
    """

    def __init__(self, file: str, line: int, rule_id: str | None, reason: str) -> None:
        self.file = file
        self.line = line
        self.rule_id = rule_id
        self.reason = reason
        self.problems: tuple[RuleFileError, ...] = (self,)
        super().__init__(self.location_line())

    def location_line(self) -> str:
        rule = f"rule {self.rule_id}: " if self.rule_id else ""
        return f"{self.file}:{self.line}: {rule}{self.reason}"

    def __str__(self) -> str:
        return "\n".join(p.location_line() for p in self.problems)

    @classmethod
    def collect(cls, problems: Sequence[RuleFileError]) -> RuleFileError:
        """One error carrying all `problems` (sorted by file and line), for raising."""
        ordered = sorted(problems, key=lambda p: (p.file, p.line))
        first = ordered[0]
        combined = cls(first.file, first.line, first.rule_id, first.reason)
        combined.problems = tuple(ordered)
        return combined


class RuleEngineError(Exception):
    """The engine refused or failed one evaluation; carries no engine text (it holds user data)."""
