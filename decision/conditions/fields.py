"""The request fields a rule condition may reference, each with one type.

Typing every field is what stops YAML 1.1 coercions (`region: NO` read as a boolean) and
the engine's own type confusion (`"abc"` satisfying `> 0`), both in docs/hazards.md: a
comparison whose value has the wrong type is a validation error, and a request value of the wrong type never reaches
the engine (it counts as missing).
"""

from __future__ import annotations

import difflib
import enum
import re
from dataclasses import dataclass


class FieldType(enum.Enum):
    STRING = "string"
    NUMBER = "number"
    BOOL = "boolean"


@dataclass(frozen=True, slots=True)
class Field:
    """A referenceable field: its dotted name, type and meaning (shown by `rules explain`)."""

    name: str
    type: FieldType
    description: str


_FIXED = (
    Field("placement", FieldType.STRING, "where the content is shown, e.g. home_banner"),
    Field("context.region", FieldType.STRING, "caller's region code, e.g. DE or US"),
    Field("context.device", FieldType.STRING, "device class, e.g. mobile"),
    Field("context.channel", FieldType.STRING, "channel, e.g. web, app, email"),
    Field("context.locale", FieldType.STRING, "locale, e.g. de-DE"),
    Field("context.client_hour", FieldType.NUMBER, "hour of day 0-23 in the client's time zone"),
    Field("cart.item_count", FieldType.NUMBER, "number of items in the cart"),
    Field("cart.value", FieldType.NUMBER, "cart value in cart.currency"),
    Field("cart.currency", FieldType.STRING, "ISO currency code of cart.value"),
    Field("cart.idle_minutes", FieldType.NUMBER, "minutes since the cart last changed, at now"),
    Field("consent", FieldType.BOOL, "true if the user consented to personalization"),
    Field("user.segment", FieldType.STRING, "the user's behavioural segment (training segments); needs consent"),
    Field("user.rfm.recency", FieldType.NUMBER, "recency quintile 1-5 (5 = most recent); needs consent"),
    Field("user.rfm.frequency", FieldType.NUMBER, "frequency quintile 1-5 (5 = most frequent); needs consent"),
    Field("user.rfm.monetary", FieldType.NUMBER, "monetary quintile 1-5 (5 = highest spend); needs consent"),
)
FIELDS: dict[str, Field] = {f.name: f for f in _FIXED}
ATTRIBUTE_PREFIX = "attributes."
_ATTRIBUTE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class UnknownFieldError(ValueError):
    """A field name that is not in the registry (the message carries a suggestion)."""


def is_attribute(name: str) -> bool:
    return name.startswith(ATTRIBUTE_PREFIX)


def lookup(name: str) -> Field | None:
    """The registered field, or None for an attribute (typed by its use) or an unknown name."""
    if is_attribute(name):
        key = name[len(ATTRIBUTE_PREFIX) :]
        if not _ATTRIBUTE_KEY.match(key):
            raise UnknownFieldError(f"attribute key '{key}' must be letters, digits or _ (at most 64)")
        return None
    if name in FIELDS:
        return FIELDS[name]
    close = difflib.get_close_matches(name, [*FIELDS, "attributes.<key>"], n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise UnknownFieldError(f"unknown field '{name}'{hint}")


def type_of_value(value: object) -> FieldType | None:
    """The field type a YAML literal has, or None if it is not a scalar we compare."""
    if isinstance(value, bool):
        return FieldType.BOOL
    if isinstance(value, int | float):
        return FieldType.NUMBER
    if isinstance(value, str):
        return FieldType.STRING
    return None


def describe_literal(value: object) -> str:
    """How YAML read a literal, with the quoting hint for YAML 1.1 surprises."""
    kind = type_of_value(value)
    label = kind.value if kind else type(value).__name__
    return f"{label} {value!r}"
