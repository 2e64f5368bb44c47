"""Turn a parsed ops file into its strict model, or into located problems that say what to fix.

Shared by the rules and the experiments compilers: each pydantic error becomes
`file:line: <kind> <id>: reason`, with the line found by walking the line-marked document,
the id of the list item it sits in (a rule, an experiment), and a "did you mean" for
unknown keys.
"""

from __future__ import annotations

import difflib
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from decision.conditions.errors import SpecFileError
from decision.conditions.loader import MarkedDict, SourceFile, walk_lines

M = TypeVar("M", bound=BaseModel)


class Problems:
    """Collects located problems for one load; `kind` names the items ("rule", "experiment")."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.items: list[SpecFileError] = []

    def add(self, file: str, line: int, item_id: str | None, reason: str) -> None:
        self.items.append(SpecFileError(file, line, f"{self.kind} {item_id}" if item_id else None, reason))


def validate_document(source: SourceFile, model: type[M], list_key: str, problems: Problems) -> M | None:
    """The file's document as `model`, or None with every problem added to `problems`."""
    if not isinstance(source.document, MarkedDict):
        problems.add(source.name, 1, None, f"a {problems.kind} file must be a mapping with 'version' and '{list_key}'")
        return None
    try:
        return model.model_validate(source.document)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            line = walk_lines(source.document, loc)
            problems.add(source.name, line, _item_id_at(source.document, loc, list_key), reason(error, model))
        return None


def _item_id_at(document: Any, loc: tuple[int | str, ...], list_key: str) -> str | None:
    if len(loc) >= 2 and loc[0] == list_key and isinstance(document, MarkedDict):
        items = document.get(list_key)
        if isinstance(items, list) and isinstance(loc[1], int) and loc[1] < len(items):
            item = items[loc[1]]
            item_id = item.get("id") if isinstance(item, dict) else None
            return item_id if isinstance(item_id, str) else f"#{loc[1] + 1}"
    return None


def reason(error: Any, root: type[BaseModel]) -> str:
    """One pydantic error in words, with a suggestion for a misspelled key."""
    loc = ".".join(str(p) for p in error["loc"] if isinstance(p, str)) or "file"
    kind = error["type"]
    if kind == "missing":
        return f"missing '{loc}'" if loc != "version" else "missing version"
    if kind == "extra_forbidden":
        key = str(error["loc"][-1])
        known = _keys_at(root, tuple(error["loc"][:-1]))
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown key '{key}'{hint}"
    given = error.get("input")
    seen = f" (YAML read {type(given).__name__} {given!r}; quote it)" if kind == "string_type" else ""
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"'{loc}': {message}{seen}"


def _keys_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed in the mapping at `loc` (for "did you mean")."""
    for part in loc:
        if not isinstance(part, str) or part not in model.model_fields:
            continue
        sub = _submodel(model.model_fields[part].annotation)
        if sub is None:
            return []
        model = sub
    return [info.alias or name for name, info in model.model_fields.items()]


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _submodel(arg)
        if found is not None:
            return found
    return None
