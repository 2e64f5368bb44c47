"""Rule files → one CompiledRuleset, or every problem found (file:line: rule <id>: reason).

One ruleset is one file, or every `*.yaml` file directly in one folder (sorted by name).
All files of a folder must declare the same `version`, so a half-copied deploy is refused
instead of activating a mix of old and new files.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from pydantic import ValidationError

from decision.conditions import condition as cond
from decision.conditions import facts, window
from decision.conditions.errors import SpecFileError
from decision.conditions.fields import FieldType
from decision.conditions.loader import (
    MarkedDict,
    MarkedList,
    SourceFile,
    content_hash,
    read_spec_files,
)
from decision.conditions.validation import Problems, validate_document
from decision.tiers.rules import translate
from decision.tiers.rules.compiled import Case, CompiledRule, CompiledRuleset
from decision.tiers.rules.schema import RuleFileModel, RuleModel

MAX_RULES = 5000
MAX_FIELDS = 200  # the engine refuses events with more than 253 properties


def _validate_file(source: SourceFile, problems: Problems) -> RuleFileModel | None:
    return validate_document(source, RuleFileModel, "rules", problems)


def _compile_rule(
    spec: RuleModel, order: int, source: SourceFile, index: int, problems: Problems
) -> CompiledRule | None:
    raw = source.document["rules"][index]
    line = source.document["rules"].item_lines[index]
    before = len(problems.items)

    def report(at: int, reason: str) -> None:
        problems.add(source.name, at, spec.id, reason)

    condition = None
    if spec.when is not None:
        condition = cond.parse(spec.when, raw.key_lines.get("when", line), report)
    start = end = None
    if spec.active is not None:
        try:
            start, end = window.bounds(spec.active)
        except window.WindowError as exc:
            report(raw.key_lines.get("active", line), str(exc))
    cost = translate.alternatives(condition)
    if cost > translate.CHUNK_BUDGET:
        report(
            raw.key_lines.get("when", line),
            f"condition has {cost} alternatives that can "
            f"hold at once; the engine allows {translate.CHUNK_BUDGET}: split the rule",
        )
    if len(problems.items) > before:
        return None
    return CompiledRule(
        spec.id,
        spec.priority,
        order,
        source.name,
        line,
        condition,
        frozenset(spec.placements) if spec.placements else None,
        start,
        end,
        tuple(spec.then.content),
        MappingProxyType(dict(spec.then.parameters)),
        spec.description or "",
    )


def _slots(rules: list[CompiledRule], problems: Problems) -> dict[str, FieldType | None]:
    """Every referenced field with its one type; attributes take the type of their use."""
    types: dict[str, FieldType | None] = {}
    first_use: dict[str, str] = {}
    for rule in rules:
        if rule.placements is not None:
            types["placement"] = FieldType.STRING
        for leaf in cond.leaves(rule.condition):
            kind = leaf.type if isinstance(leaf, cond.Compare) else types.get(leaf.field)
            known = types.get(leaf.field)
            if known is not None and kind is not None and known is not kind:
                problems.add(
                    rule.file,
                    leaf.line,
                    rule.id,
                    f"'{leaf.field}' is used as a {kind.value} here but as a "
                    f"{known.value} in rule {first_use[leaf.field]}",
                )
                continue
            types[leaf.field] = known or kind
            first_use.setdefault(leaf.field, rule.id)
    if len(types) > MAX_FIELDS:
        problems.add(rules[0].file, 1, None, f"rules reference more than {MAX_FIELDS} fields")
    return types


def _check_rules_of_invalid_file(source: SourceFile, problems: Problems) -> None:
    """Still report condition and window problems of the well-formed rules of a bad file."""
    raw_rules = source.document.get("rules") if isinstance(source.document, MarkedDict) else None
    if not isinstance(raw_rules, MarkedList):
        return
    for index, raw in enumerate(raw_rules):
        try:
            spec = RuleModel.model_validate(raw)
        except ValidationError:
            continue  # already reported against the whole file
        _compile_rule(spec, index, source, index, problems)


def compile_sources(sources: list[SourceFile], problems: Problems) -> CompiledRuleset | None:
    models = [(s, _validate_file(s, problems)) for s in sources]
    versions = {m.version: s.name for s, m in models if m}
    if len(versions) > 1:
        listing = ", ".join(f"{Path(n).name}={v}" for v, n in sorted(versions.items()))
        problems.add(sources[0].name, 1, None, f"files declare different versions ({listing})")
    rules: list[CompiledRule] = []
    seen: dict[str, str] = {}
    cases: list[Case] = []
    for source, model in models:
        if model is None:
            _check_rules_of_invalid_file(source, problems)
            continue
        for index, spec in enumerate(model.rules):
            line = source.document["rules"].item_lines[index]
            if spec.id in seen:
                problems.add(source.name, line, spec.id, f"duplicate rule id (first in {seen[spec.id]})")
            seen.setdefault(spec.id, f"{Path(source.name).name}:{line}")
            compiled = _compile_rule(spec, len(rules), source, index, problems)
            if compiled:
                rules.append(compiled)
        tests = source.document.get("tests")
        if isinstance(tests, MarkedList):
            lines = tests.item_lines
            cases.extend(Case(source.name, lines[i], c) for i, c in enumerate(model.tests))
    if len(rules) > MAX_RULES:
        problems.add(sources[0].name, 1, None, f"more than {MAX_RULES} rules")
    types = _slots(rules, problems)
    if problems.items or not versions:
        return None
    return _assemble(next(iter(versions)), content_hash(sources), rules, types, cases)


def _assemble(
    version: str,
    digest: str,
    rules: list[CompiledRule],
    types: dict[str, FieldType | None],
    cases: list[Case],
) -> CompiledRuleset:
    keys = {name: f"f{i}" for i, name in enumerate(sorted(types))}
    slots = tuple(facts.slot(key, name, types[name]) for name, key in keys.items())
    definitions = tuple(translate.definitions(tuple(rules), keys.__getitem__))
    return CompiledRuleset(version, digest, tuple(rules), slots, MappingProxyType(keys), definitions, tuple(cases))


def compile_path(path: Path) -> CompiledRuleset:
    """Read, validate and compile the ruleset at `path`; raises SpecFileError with every problem."""
    sources, read_problems = read_spec_files(path)
    problems = Problems("rule")
    problems.items.extend(p for err in read_problems for p in err.problems)
    compiled = compile_sources(sources, problems) if sources else None
    if problems.items or compiled is None:
        if not problems.items:
            problems.add(str(path), 1, None, "no rules could be compiled")
        raise SpecFileError.collect(problems.items)
    return compiled
