"""`decision experiments validate|test|explain`: check experiment files before they go live.

The statistics (planning a test's size, analysing its results, concluding it) live in the
training package: `training experiments plan|analyze|conclude`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from pydantic import ValidationError

from decision.conditions.cases import as_utc
from decision.conditions.cli import compile_or_exit, read_json_option
from decision.tiers.experiments import casefile
from decision.tiers.experiments.assign import assign
from decision.tiers.experiments.assign import explain as explain_one
from decision.tiers.experiments.compiled import Case, ExperimentSet
from decision.tiers.experiments.compiler import compile_path
from decision.tiers.experiments.schema import CaseModel

_PATH = click.Path(exists=False, path_type=Path)


@click.group("experiments")
def experiments() -> None:
    """Validate, test and explain experiment files (one file, or a folder of *.yaml)."""


@experiments.command()
@click.argument("path", type=_PATH)
def validate(path: Path) -> None:
    """Check PATH: syntax, schema, arms and weights, namespaces, conditions. Exit 0 if valid."""
    compiled: ExperimentSet = compile_or_exit(compile_path, path)
    arms = sum(len(e.arms) for e in compiled.experiments)
    click.echo(
        f"OK {path}: version {compiled.version}, {len(compiled.experiments)} experiments, {arms} arms, "
        f"{len(compiled.cases)} tests, hash {compiled.content_hash[:12]}"
    )


@experiments.command("test")
@click.argument("path", type=_PATH)
def test_cmd(path: Path) -> None:
    """Run the test cases written in the files at PATH."""
    compiled: ExperimentSet = compile_or_exit(compile_path, path)
    results = casefile.run_all(compiled)
    for result in results:
        click.echo(result.line())
    passed = sum(r.passed for r in results)
    click.echo(f"{'PASS' if passed == len(results) else 'FAIL'} {passed}/{len(results)}")
    sys.exit(0 if passed == len(results) else 1)


@experiments.command()
@click.argument("path", type=_PATH)
@click.option(
    "--request",
    "request_text",
    required=True,
    help='Request as JSON, or @file.json, e.g. \'{"placement": "home_banner", "user_id": "u1", "consent": true}\'.',
)
@click.option("--segment", default=None, help="The user's segment (as a segment model would assign it).")
@click.option(
    "--now",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Server time to evaluate at (default: the current time, UTC).",
)
def explain(path: Path, request_text: str, segment: str | None, now: datetime | None) -> None:
    """Show which experiment and arm a request gets at PATH, and why."""
    compiled: ExperimentSet = compile_or_exit(compile_path, path)
    moment = as_utc(now) if now else datetime.now(UTC)
    data = read_json_option(request_text, "--request")
    try:
        spec = CaseModel.model_validate(
            {"name": "explain", "now": moment, "segment": segment, "request": data, "expect": {}}
        )
    except ValidationError as exc:
        raise click.BadParameter(str(exc).splitlines()[0], param_hint="--request") from None
    context = casefile.context_for(Case("--request", 1, spec))
    click.echo(f"experiments {compiled.version} ({compiled.content_hash[:12]}) at {moment.isoformat()}")
    candidates = compiled.by_placement.get(context.request.placement, ())
    if not candidates:
        click.echo(f"  no experiment targets placement {context.request.placement!r}")
    for experiment in candidates:
        found, why = explain_one(experiment, context)
        where = f"{Path(experiment.file).name}:{experiment.line}"
        if found is None:
            click.echo(f"  no   {experiment.id} ({where}): {why}")
        else:
            click.echo(f"  IN   {experiment.id} ({where}): arm {found.arm.id} with probability {found.probability:g}")
    chosen = assign(compiled, context)
    if chosen is None:
        click.echo("result: no experiment (the next tier decides)")
    else:
        click.echo(
            f"result: {chosen.experiment.id} / {chosen.arm.id} (first experiment in file order that takes the user)"
        )
