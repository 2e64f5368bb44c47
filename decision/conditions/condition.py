"""Rule conditions: the `when:` syntax parsed into a small typed tree.

A leaf is `{field: F, op: OP, value: V}` (`exists`/`missing` take no value); branches are
`{all: [...]}`, `{any: [...]}` and `{not: ...}`. Types are checked against `fields.py`:
strings allow `== != in not_in`, booleans `== !=`, numbers every comparison.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from decision.conditions import fields
from decision.conditions.fields import FieldType
from decision.conditions.loader import MarkedDict, MarkedList

Scalar = str | float | bool
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
OPERATORS = (*COMPARISONS, "in", "not_in", "exists", "missing")
_ALLOWED = {
    FieldType.STRING: {"==", "!=", "in", "not_in"},
    FieldType.BOOL: {"==", "!="},
    FieldType.NUMBER: set(COMPARISONS) | {"in", "not_in"},
}
_SYNONYMS = {
    "=>": ">=",
    "=<": "<=",
    "=": "==",
    "eq": "==",
    "ne": "!=",
    "<>": "!=",
    "gt": ">",
    "ge": ">=",
    "gte": ">=",
    "lt": "<",
    "le": "<=",
    "lte": "<=",
    "not in": "not_in",
    "nin": "not_in",
    "exist": "exists",
    "present": "exists",
    "absent": "missing",
}
MAX_STRING = 256
MAX_NUMBER = 1e12
MAX_LIST = 100


@dataclass(frozen=True, slots=True)
class Compare:
    """`field op value`; `in`/`not_in` carry a tuple of values."""

    field: str
    op: str
    value: Scalar | tuple[Scalar, ...]
    type: FieldType
    line: int


@dataclass(frozen=True, slots=True)
class Exists:
    field: str
    present: bool
    line: int


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Condition


Condition = Compare | Exists | AllOf | AnyOf | Not
Report = Callable[[int, str], None]


def leaves(condition: Condition | None) -> list[Compare | Exists]:
    """Every leaf of a condition, left to right."""
    if condition is None:
        return []
    if isinstance(condition, Compare | Exists):
        return [condition]
    if isinstance(condition, Not):
        return leaves(condition.item)
    return [leaf for item in condition.items for leaf in leaves(item)]


def parse(raw: Any, line: int, report: Report) -> Condition | None:
    """Parse a `when:` value; problems go to `report(line, reason)`, the result is then None."""
    if not isinstance(raw, MarkedDict):
        report(line, "a condition must be a mapping (field/op/value, all, any or not)")
        return None
    branch = [k for k in ("all", "any", "not") if k in raw]
    if branch:
        return _parse_branch(raw, branch, report)
    return _parse_leaf(raw, report)


def _parse_branch(raw: MarkedDict, branch: list[str], report: Report) -> Condition | None:
    key = branch[0]
    line = raw.key_lines[key]
    if len(raw) != 1:
        report(line, f"'{key}' must be alone in its mapping; nest the other keys inside it")
        return None
    body = raw[key]
    if key == "not":
        inner = parse(body, line, report)
        return Not(inner) if inner else None
    if not isinstance(body, MarkedList) or not body:
        report(line, f"'{key}' needs a non-empty list of conditions")
        return None
    items = [parse(item, body.item_lines[i], report) for i, item in enumerate(body)]
    if any(item is None for item in items):
        return None
    parsed = tuple(item for item in items if item is not None)
    return AllOf(parsed) if key == "all" else AnyOf(parsed)


def _parse_leaf(raw: MarkedDict, report: Report) -> Condition | None:
    unknown = [k for k in raw if k not in ("field", "op", "value")]
    for key in unknown:
        report(raw.key_lines[key], f"unknown key '{key}'{_suggest(key, _KEYS)}")
    if unknown:
        return None
    if "field" not in raw or "op" not in raw:
        report(raw.line, "a comparison needs 'field' and 'op'")
        return None
    name, op, line = raw["field"], raw["op"], raw.key_lines["field"]
    if not isinstance(name, str) or not isinstance(op, str):
        report(line, "'field' and 'op' must be strings")
        return None
    if op not in OPERATORS:
        hint = f" (did you mean '{_SYNONYMS[op]}'?)" if op in _SYNONYMS else _suggest(op, OPERATORS)
        report(raw.key_lines["op"], f"unknown operator '{op}'{hint}")
        return None
    try:
        known = fields.lookup(name)
    except fields.UnknownFieldError as exc:
        report(line, str(exc))
        return None
    if op in ("exists", "missing"):
        if "value" in raw:
            report(raw.key_lines["value"], f"'{op}' takes no value")
            return None
        return Exists(name, op == "exists", line)
    if "value" not in raw:
        report(line, f"'{op}' needs a value")
        return None
    return _typed_compare(name, op, raw["value"], known, raw.key_lines["value"], report)


_KEYS = ("field", "op", "value", "all", "any", "not")


def _typed_compare(
    name: str, op: str, value: Any, known: fields.Field | None, line: int, report: Report
) -> Compare | None:
    values = value if op in ("in", "not_in") else [value]
    if op in ("in", "not_in") and (not isinstance(value, list) or not value):
        report(line, f"'{op}' needs a non-empty list of values")
        return None
    if len(values) > MAX_LIST:
        report(line, f"at most {MAX_LIST} values in one list")
        return None
    types = {fields.type_of_value(v) for v in values}
    expected = known.type if known else next(iter(types))
    for v in values:
        problem = _literal_problem(name, v, expected)
        if problem:
            report(line, problem)
            return None
    assert expected is not None  # _literal_problem refuses values of no known type
    if op not in _ALLOWED[expected]:
        allowed = " ".join(sorted(_ALLOWED[expected]))
        report(
            line,
            f"operator '{op}' does not apply to {expected.value} field '{name}' (allowed: {allowed})",
        )
        return None
    normal = tuple(_normal(v) for v in values)
    return Compare(name, op, normal if op in ("in", "not_in") else normal[0], expected, line)


def _literal_problem(name: str, value: object, expected: FieldType | None) -> str | None:
    got = fields.type_of_value(value)
    if got is None or expected is None:
        return f"value for '{name}' must be a string, number or boolean, not {value!r}"
    if got is not expected:
        hint = " (YAML reads yes/no/on/off as booleans: quote it)" if got is FieldType.BOOL else ""
        hint = hint or (" (quote it to make it a string)" if expected is FieldType.STRING else "")
        literal = fields.describe_literal(value)
        return f"type mismatch: '{name}' is a {expected.value}, got {literal}{hint}"
    if isinstance(value, str) and not 0 < len(value) <= MAX_STRING:
        return f"strings in conditions must have 1 to {MAX_STRING} characters"
    if got is FieldType.NUMBER:
        number = float(value)  # type: ignore[arg-type]
        if not math.isfinite(number) or abs(number) > MAX_NUMBER:
            return f"numbers in conditions must be finite and within ±{MAX_NUMBER:.0e}"
        if round(number, 4) != number:
            return "numbers in conditions have at most 4 decimals"
    return None


def _normal(value: Any) -> Scalar:
    if isinstance(value, bool | str):
        return value
    return float(value) + 0.0


def _suggest(word: str, options: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""
