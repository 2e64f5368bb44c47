"""Located errors for ops-edited files: every problem names the file, the line, what and why."""

from __future__ import annotations

from collections.abc import Sequence


class SpecFileError(Exception):
    """One problem in a rule or experiment file, or (via `problems`) every problem of one load.

    `str()` gives `file:line: <subject>: reason` (subject e.g. `rule cart_reminder` or
    `experiment hero_test`, absent for file-level problems), one line per problem, so
    operators can jump to the spot; `problems` always holds at least this error itself.
    """

    def __init__(self, file: str, line: int, subject: str | None, reason: str) -> None:
        self.file = file
        self.line = line
        self.subject = subject
        self.reason = reason
        self.problems: tuple[SpecFileError, ...] = (self,)
        super().__init__(self.location_line())

    def location_line(self) -> str:
        subject = f"{self.subject}: " if self.subject else ""
        return f"{self.file}:{self.line}: {subject}{self.reason}"

    def __str__(self) -> str:
        return "\n".join(p.location_line() for p in self.problems)

    @classmethod
    def collect(cls, problems: Sequence[SpecFileError]) -> SpecFileError:
        """One error carrying all `problems` (sorted by file and line), for raising."""
        ordered = sorted(problems, key=lambda p: (p.file, p.line))
        first = ordered[0]
        combined = cls(first.file, first.line, first.subject, first.reason)
        combined.problems = tuple(ordered)
        return combined
