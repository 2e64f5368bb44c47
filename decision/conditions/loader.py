"""Read rule and experiment files safely: confined to their folder, size-capped, safe YAML with line marks.

Refused before any rule logic runs: files over the size cap (checked before parsing),
paths or symlinks leaving the root, non-UTF-8 text, YAML syntax errors, anchors and
aliases (billion laughs), duplicate keys and non-string keys. Tags other than the YAML
core schema are refused by the safe constructor. Why each matters: docs/hazards.md,
sections yaml-unsafe, yaml-bomb, yaml-coercion and yaml-paths.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from decision.conditions.errors import SpecFileError

MAX_FILE_BYTES = 256 * 1024
MAX_FILES = 64
SPEC_FILE_SUFFIX = ".yaml"

_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class MarkedDict(dict[str, Any]):
    """A mapping that remembers its own line and the line of each key (1-based)."""

    line: int = 1
    key_lines: dict[str, int]


class MarkedList(list[Any]):
    """A sequence that remembers its own line and the line of each item (1-based)."""

    line: int = 1
    item_lines: list[int]


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One parsed rule or experiment file: its display name, its bytes and the line-marked document."""

    name: str
    content: bytes
    document: Any


class _MarkingLoader(_Parser):  # type: ignore[misc]
    """Safe loader that keeps line numbers and rejects duplicate or non-string keys."""

    def __init__(self, stream: str, file: str) -> None:
        super().__init__(stream)
        self.file = file

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> MarkedDict:
        result = MarkedDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise SpecFileError(self.file, line, None, f"key {key!r} must be a string")
            if key in result:
                first = result.key_lines[key]
                raise SpecFileError(self.file, line, None, f"duplicate key '{key}' (first given on line {first})")
            result.key_lines[key] = line
            result[key] = self.construct_object(value_node, deep=True)
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> MarkedList:
        result = MarkedList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


_MarkingLoader.add_constructor("tag:yaml.org,2002:map", _MarkingLoader.construct_mapping)
_MarkingLoader.add_constructor("tag:yaml.org,2002:seq", _MarkingLoader.construct_sequence)


def _refuse_anchors(text: str, file: str) -> None:
    """Scan parser events (cheap, nothing is built) and refuse any anchor or alias."""
    for event in yaml.parse(text, Loader=_Parser):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            line = event.start_mark.line + 1 if event.start_mark else 1
            raise SpecFileError(file, line, None, "anchors and aliases (&, *) are not allowed")


def parse_text(text: str, file: str) -> Any:
    """Parse one YAML document with line marks; raises SpecFileError with the line."""
    try:
        _refuse_anchors(text, file)
        loader = _MarkingLoader(text, file)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        reason = exc.problem or "invalid YAML"
        if isinstance(exc, yaml.constructor.ConstructorError):
            reason = f"{reason} (only plain YAML data is allowed, no tags)"
        raise SpecFileError(file, line, None, f"YAML error: {reason}") from None
    except yaml.YAMLError as exc:
        raise SpecFileError(file, 1, None, f"YAML error: {type(exc).__name__}") from None


def spec_files(path: Path) -> list[Path]:
    """The files of a rule or experiment set: `path` itself, or the `*.yaml` files directly in the folder."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.name.endswith(SPEC_FILE_SUFFIX) and p.name[0] != ".")
    return [path]


def _confined(file: Path, root: Path) -> bool:
    return file.resolve().is_relative_to(root.resolve())


def read_bytes(file: Path, root: Path) -> bytes:
    """Read one file, refusing escapes from `root` and anything over the size cap."""
    name = str(file)
    if not _confined(file, root):
        raise SpecFileError(name, 1, None, "path leaves its folder (symlink or '..')")
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SpecFileError(name, 1, None, f"file is {size} bytes; the limit is {MAX_FILE_BYTES} bytes")
        with file.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SpecFileError(name, 1, None, f"cannot read file ({exc.strerror})") from None
    if len(data) > MAX_FILE_BYTES:
        raise SpecFileError(name, 1, None, f"file grew past the {MAX_FILE_BYTES}-byte limit")
    return data


def read_spec_files(path: Path) -> tuple[list[SourceFile], list[SpecFileError]]:
    """Read and parse every file of the set at `path`; problems are collected, not raised."""
    root = path if path.is_dir() else path.parent
    files: list[SourceFile] = []
    problems: list[SpecFileError] = []
    if not path.exists():
        return [], [SpecFileError(str(path), 1, None, "no such file or folder")]
    names = spec_files(path)
    if not names:
        problems.append(SpecFileError(str(path), 1, None, f"no *{SPEC_FILE_SUFFIX} files"))
    if len(names) > MAX_FILES:
        problems.append(SpecFileError(str(path), 1, None, f"more than {MAX_FILES} files"))
        names = names[:MAX_FILES]
    for file in names:
        try:
            content = read_bytes(file, root)
            text = _decode(content, str(file))
            files.append(SourceFile(str(file), content, parse_text(text, str(file))))
        except SpecFileError as exc:
            problems.append(exc)
    return files, problems


def _decode(content: bytes, file: str) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise SpecFileError(file, line, None, "file is not valid UTF-8") from None


def content_hash(files: list[SourceFile]) -> str:
    """sha256 over every file's base name and bytes: the identity of a set's content."""
    digest = hashlib.sha256()
    for source in sorted(files, key=lambda s: Path(s.name).name):
        digest.update(Path(source.name).name.encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(source.content).digest())
    return digest.hexdigest()


def walk_lines(document: Any, loc: tuple[int | str, ...]) -> int:
    """The line of the deepest node along `loc` (a pydantic error location)."""
    node, line = document, getattr(document, "line", 1)
    for part in loc:
        if isinstance(node, MarkedDict) and isinstance(part, str) and part in node:
            line, node = node.key_lines[part], node[part]
        elif isinstance(node, MarkedList) and isinstance(part, int) and 0 <= part < len(node):
            line, node = node.item_lines[part], node[part]
        else:
            break
    return line
