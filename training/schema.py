"""The event-log schema and its validation: every bad value is reported with row and column.

Validation is vectorized (one pass per column), so a million-row log is checked in about
a second; each problem becomes a `BadValue` naming the row (1-based data row; in a CSV
that is line row + 1), the column, the offending value and what was expected.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

EVENT_TYPES = ("view", "click", "add_to_cart", "remove_from_cart", "purchase")
#: Events that must name the content they engage with.
CONTENT_REQUIRED = ("click", "add_to_cart", "remove_from_cart")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: str  # "string" | "timestamp" | "category" | "number"
    required: bool
    meaning: str


COLUMNS = (
    Column("user_id", "string", True, "pseudonymous user id"),
    Column("timestamp", "timestamp", True, "when it happened; ISO-8601, UTC if no offset"),
    Column("event_type", "category", True, "one of: " + ", ".join(EVENT_TYPES)),
    Column(
        "content_id",
        "string",
        False,
        "content engaged with; required for " + ", ".join(CONTENT_REQUIRED),
    ),
    Column("category", "string", False, "category of the content"),
    Column("value", "number", False, "money for add_to_cart/purchase (finite, >= 0)"),
    Column("region", "string", False, "user's region at the time (e.g. eu, us)"),
    Column("device", "string", False, "mobile, desktop, tablet …"),
    Column("channel", "string", False, "web, app, email …"),
    Column("placement", "string", False, "where a clicked content was shown (home_banner …)"),
    Column(
        "consent",
        "boolean",
        False,
        "personalization consent (true/false, 1/0, yes/no); when the column exists, only rows with consent are used",
    ),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)


class BadRowPolicy(StrEnum):
    FAIL = "fail"
    DROP = "drop"


@dataclass(frozen=True, slots=True)
class BadValue:
    row: int
    column: str
    value: str
    expected: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column!r}: got {self.value!r}, expected {self.expected}"


class EventLogError(ValueError):
    """The event log cannot be used as is; the message lists the problems and what to do."""

    def __init__(self, source: str, problems: list[BadValue] | str) -> None:
        self.problems = problems if isinstance(problems, list) else []
        if isinstance(problems, str):
            text = f"{source}: {problems}"
        else:
            shown = "\n".join(f"  {p}" for p in problems[:20])
            more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
            text = (
                f"{source}: {len(problems)} bad value(s):\n{shown}{more}\n"
                "Fix the rows, or pass --bad-rows drop to drop them and count them."
            )
        super().__init__(text)


@dataclass(frozen=True, slots=True)
class ValidationReport:
    rows_read: int
    rows_dropped: int
    by_column: dict[str, int]
    rows_without_consent: int = 0


def validate(raw: pd.DataFrame, source: str, policy: BadRowPolicy) -> tuple[pd.DataFrame, ValidationReport]:
    """Check and type the raw columns; return the clean frame (sorted by user, time)."""
    missing = [c.name for c in COLUMNS if c.required and c.name not in raw.columns]
    if missing:
        raise EventLogError(
            source,
            f"missing required column(s) {', '.join(map(repr, missing))}; the columns are: {', '.join(COLUMN_NAMES)}",
        )
    if raw.empty:
        raise EventLogError(source, "the event log has no rows")
    df = pd.DataFrame(index=raw.index)
    bad = np.zeros(len(raw), dtype=bool)
    problems: list[BadValue] = []
    for column in COLUMNS:
        values = raw[column.name] if column.name in raw.columns else pd.Series(None, index=raw.index)
        typed, wrong, expected = _check(column, values)
        df[column.name] = typed
        _note(problems, raw, column.name, wrong, expected)
        bad |= wrong
    needs_content = df["event_type"].isin(CONTENT_REQUIRED).to_numpy() & df["content_id"].isna().to_numpy()
    _note(problems, raw, "content_id", needs_content, "a content id for this event_type")
    bad |= needs_content
    if problems and policy is BadRowPolicy.FAIL:
        raise EventLogError(source, sorted(problems, key=lambda p: p.row))
    # Without a consent column every row is usable; with one, only rows that say yes.
    no_consent = np.zeros(len(df), dtype=bool)
    if "consent" in raw.columns:
        no_consent = ~df["consent"].fillna(False).to_numpy(dtype=bool) & ~bad
    clean = df[~bad & ~no_consent].drop(columns="consent")
    if clean.empty:
        raise EventLogError(source, "every row is bad or without consent; nothing left to train on")
    clean = clean.sort_values(["user_id", "timestamp"], kind="stable").reset_index(drop=True)
    counts = Counter(p.column for p in problems)
    return clean, ValidationReport(len(raw), int(bad.sum()), dict(counts), int(no_consent.sum()))


def _check(column: Column, values: pd.Series) -> tuple[pd.Series, np.ndarray, str]:
    if column.kind == "timestamp":
        stamps = pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")
        return stamps, stamps.isna().to_numpy(), "an ISO-8601 timestamp"
    if column.kind == "number":
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        raw = numbers.to_numpy(dtype=np.float64)
        finite = np.isfinite(raw) & (np.nan_to_num(raw, nan=-1.0) >= 0)
        if values.dtype.kind in "fiu":  # already numeric (Parquet): NaN is "empty"
            present = ~np.isnan(raw) | np.isinf(raw)
        else:
            present = _present(values.astype("string"))
        return numbers.where(present), present & ~finite, "a finite number >= 0 or empty"
    if column.kind == "boolean":
        return _booleans(values)
    strings = values.astype("string").str.strip()
    present = _present(strings)
    text = strings.where(present)
    if column.kind == "category":
        return text, ~text.isin(EVENT_TYPES).to_numpy(), "one of " + "|".join(EVENT_TYPES)
    if column.required:
        return text, ~present, "a non-empty string"
    return text, np.zeros(len(values), dtype=bool), ""


_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f"})


def _booleans(values: pd.Series) -> tuple[pd.Series, np.ndarray, str]:
    """True/False from bools or from text; empty is missing (not granted), other text is wrong."""
    if values.dtype == bool:
        return values.astype("boolean"), np.zeros(len(values), dtype=bool), ""
    text = values.astype("string").str.strip().str.lower()
    present = _present(text)
    truth = text.isin(_TRUE).fillna(False).to_numpy(dtype=bool)
    known = truth | text.isin(_FALSE).fillna(False).to_numpy(dtype=bool)
    typed = pd.Series(np.where(present, truth, False), index=values.index, dtype="boolean").where(present)
    return typed, present & ~known, "true/false, 1/0 or yes/no"


def _present(strings: pd.Series) -> np.ndarray:
    """Not missing and not blank."""
    return (strings.notna() & (strings.str.strip() != "")).fillna(False).to_numpy(dtype=bool)


def _note(problems: list[BadValue], raw: pd.DataFrame, name: str, wrong: np.ndarray, expected: str) -> None:
    rows = np.flatnonzero(wrong)
    if not len(rows):
        return
    values = raw[name].to_numpy()[rows] if name in raw.columns else [None] * len(rows)
    problems.extend(BadValue(int(r) + 1, name, _show(v), expected) for r, v in zip(rows, values, strict=True))


def _show(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)[:80]
