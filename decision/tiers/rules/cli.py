"""`decision rules validate|test|explain`: check rule files before they go live."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from pydantic import ValidationError

from decision.conditions.cases import as_utc
from decision.conditions.cli import compile_or_exit, read_json_option
from decision.tiers.rules import casefile, reference
from decision.tiers.rules.active import ActiveRuleset
from decision.tiers.rules.arbitrate import ranked
from decision.tiers.rules.compiled import CompiledRuleset
from decision.tiers.rules.compiler import compile_path
from decision.tiers.rules.schema import CaseModel

_PATH = click.Path(exists=False, path_type=Path)


def _compile_or_exit(path: Path) -> CompiledRuleset:
    return compile_or_exit(compile_path, path)


@click.group("rules")
def rules() -> None:
    """Validate, test and explain rule files (one file, or a folder of *.yaml)."""


@rules.command()
@click.argument("path", type=_PATH)
def validate(path: Path) -> None:
    """Check PATH: syntax, schema, fields, types, windows. Exit 0 if valid."""
    compiled = _compile_or_exit(path)
    click.echo(
        f"OK {path}: version {compiled.version}, {len(compiled.rules)} rules, "
        f"{len(compiled.cases)} tests, hash {compiled.content_hash[:12]}"
    )


@rules.command("test")
@click.argument("path", type=_PATH)
def test_cmd(path: Path) -> None:
    """Run the test cases written in the files at PATH against the real engine."""
    active = ActiveRuleset(_compile_or_exit(path))
    try:
        results = casefile.run_all(active)
    finally:
        active.close()
    for result in results:
        click.echo(result.line())
    click.echo(casefile.summary(results))
    sys.exit(0 if all(r.passed for r in results) else 1)


def _read_request(text: str) -> CaseModel:
    data = read_json_option(text, "--request")
    try:
        return CaseModel.model_validate({"name": "explain", "request": data, "expect": {}})
    except ValidationError as exc:
        raise click.BadParameter(str(exc).splitlines()[0], param_hint="--request") from None


@rules.command()
@click.argument("path", type=_PATH)
@click.option(
    "--request",
    "request_text",
    required=True,
    help='Request as JSON, or @file.json, e.g. \'{"placement": "home_banner"}\'.',
)
@click.option(
    "--now",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Server time to evaluate at (default: the current time, UTC).",
)
def explain(path: Path, request_text: str, now: datetime | None) -> None:
    """Show which rules match a request at PATH, why, and why the winner won."""
    compiled = _compile_or_exit(path)
    case = _read_request(request_text)
    moment = as_utc(now) if now else datetime.now(UTC)
    request = casefile.to_request(case.model_copy(update={"now": moment}))
    active = ActiveRuleset(compiled)
    try:
        facts = active.event(request, moment)
        outcome = active.evaluate(request, moment)
    finally:
        active.close()
    verdicts = {v.rule.id: v for v in reference.verdicts(compiled, facts)}
    click.echo(f"ruleset {compiled.version} ({compiled.content_hash[:12]}) at {moment.isoformat()}")
    for rule in ranked(compiled.rules):
        v = verdicts[rule.id]
        click.echo(f"  {'MATCH' if v.matches else 'no   '} {rule.id} (priority {rule.priority}): {v.reason}")
        if v.reason.startswith("condition"):
            for line in reference.leaf_lines(rule.condition, facts, compiled.key_of):
                click.echo(f"        {line}")
    matching = [r for r in ranked(compiled.rules) if verdicts[r.id].matches]
    if outcome.rule_id is None:
        click.echo("winner: none (no rule matched; the model tier decides)")
    else:
        why = (
            "the only match"
            if len(matching) == 1
            else (f"highest priority of {len(matching)} matches (ties: declared first)")
        )
        click.echo(f"winner: {outcome.rule_id} -> {list(outcome.content_ids)} {dict(outcome.parameters)} ({why})")


if __name__ == "__main__":
    rules()
