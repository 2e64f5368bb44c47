"""`training experiments plan|analyze|conclude`: size a test, read its results, roll out the winners."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from training.commands.common import friendly

F = TypeVar("F", bound=Callable[..., Any])
_PROBABILITY = click.FloatRange(0, 1, min_open=True, max_open=True)
_POSITIVE = click.FloatRange(0, min_open=True)


def _analysis_options(func: F) -> F:
    options = [
        click.argument("experiment_id"),
        click.option(
            "--joined",
            type=click.Path(path_type=Path),
            default=Path("var/joined.parquet"),
            show_default=True,
            help="The joined decision/outcome table (`training join`).",
        ),
        click.option(
            "--experiments",
            "experiments_path",
            type=click.Path(path_type=Path),
            default=Path("experiments"),
            show_default=True,
            help="Experiment files: the metric, arms, weights, control and guardrails are read from there.",
        ),
        click.option("--metric", type=click.Choice(["click", "conversion", "revenue"]), help="Override the file's."),
        click.option("--control", help="Control arm (default: the file's control arm, else the first arm)."),
        click.option("--weights", help="Declared arm weights, e.g. control=0.5,b=0.5 (default: the file's)."),
        click.option(
            "--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05, show_default=True
        ),
        click.option(
            "--correction",
            type=click.Choice(["holm", "fdr_bh", "bonferroni", "none"]),
            default="holm",
            show_default=True,
            help="Multiple-comparison correction over segments × arms.",
        ),
        click.option(
            "--planned-users",
            type=click.IntRange(1),
            help="Planned users per arm (`training experiments plan`): enables the 'no effect' verdict.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group("experiments")
def experiments() -> None:
    """Size, analyse and conclude experiments (statistics; the files are checked by `decision experiments`)."""


@experiments.command()
@click.option(
    "--baseline",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    required=True,
    help="Control's rate, e.g. 0.05.",
)
@click.option(
    "--mde",
    type=click.FloatRange(0, min_open=True),
    required=True,
    help="Relative minimum detectable effect, e.g. 0.10.",
)
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05, show_default=True)
@click.option("--power", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.8, show_default=True)
@click.option(
    "--comparisons", type=click.IntRange(1), default=1, show_default=True, help="Segments × treatment arms compared."
)
@click.option("--arms", type=click.IntRange(2), default=2, show_default=True)
@click.option(
    "--daily",
    type=click.FloatRange(0, min_open=True),
    default=10_000.0,
    show_default=True,
    help="Eligible users a day.",
)
@click.option("--coverage", type=click.FloatRange(0, 1, min_open=True), default=1.0, show_default=True)
@friendly
def plan(
    baseline: float, mde: float, alpha: float, power: float, comparisons: int, arms: int, daily: float, coverage: float
) -> None:
    """Users per arm and days needed, for a single final look and for daily (sequential) looks."""
    from training.stats.cli_helpers import plan_text
    from training.stats.power import plan as make_plan

    click.echo(plan_text(make_plan(baseline, mde, alpha, power, comparisons, arms, daily, coverage)))


@experiments.command()
@_analysis_options
@click.option("--html", type=click.Path(path_type=Path), help="Report page (default var/reports/experiment-<id>.html).")
@click.option(
    "--prom-textfile",
    type=click.Path(path_type=Path),
    help="Also write guardrail gauges here, in Prometheus text format (node_exporter's textfile collector).",
)
@friendly
def analyze(html: Path | None, prom_textfile: Path | None, **options: Any) -> None:
    """Per segment and arm: rates, lifts, intervals, p-values, SRM, verdicts; table and HTML page."""
    from training.stats.report import render_analysis, write_report

    analysis = _analyze(**options)
    click.echo(render_analysis(analysis))
    page = write_report(analysis, html or Path(f"var/reports/experiment-{analysis.experiment_id}.html"))
    click.echo(f"\nreport: {page}")
    if prom_textfile is not None:
        from training.stats.guardrail_metrics import write_textfile

        click.echo(f"guardrail metrics: {write_textfile(analysis, prom_textfile)}")


@experiments.command()
@_analysis_options
@click.option("--default", "default_arm", help="Arm for segments without a winner (default: control).")
@click.option("--version", help="The set's new version (default: the old one + '-concluded-<date>').")
@friendly
def conclude(default_arm: str | None, version: str | None, **options: Any) -> None:
    """Serve each segment's winner from now on: a new version of the experiment files, with the evidence."""
    from decision.tiers.experiments.compiler import compile_path
    from training.experiment_files import add_conclusion
    from training.stats.conclusion import conclude as make_conclusion

    analysis = _analyze(**options)
    now = datetime.now(UTC).replace(microsecond=0)
    conclusion = make_conclusion(analysis, now, default_arm)
    path: Path = options["experiments_path"]
    old = compile_path(path).version
    new_version = version or f"{old}-concluded-{now:%Y%m%d%H%M}"
    written = add_conclusion(path, analysis.experiment_id, conclusion.as_yaml(), new_version)
    click.echo(conclusion.evidence)
    winners = ", ".join(f"{s} -> {a}" for s, a in sorted(conclusion.winners.items())) or "none"
    click.echo(f"\nconcluded {analysis.experiment_id}: winners {winners}; everyone else -> {conclusion.default}")
    click.echo(f"wrote {written} (version {new_version}); the service picks it up at its next poll")


def _analyze(
    experiment_id: str,
    joined: Path,
    experiments_path: Path,
    metric: str | None,
    control: str | None,
    weights: str | None,
    alpha: float,
    correction: str,
    planned_users: int | None,
) -> Any:
    import pandas as pd

    from training.stats.analysis import analyze as run_analysis
    from training.stats.cli_helpers import parse_weights

    declared = _declared(experiments_path, experiment_id)
    if not joined.exists():
        raise ValueError(f"{joined}: no joined table; run `training join` first")
    table = pd.read_parquet(joined)
    chosen_metric = metric or (declared["metric"] if declared else None)
    if chosen_metric is None:
        raise ValueError(f"{experiment_id!r} is not in {experiments_path}: pass --metric, --control and --weights")
    arm_weights = parse_weights(weights) if weights else (declared["weights"] if declared else None)
    chosen_control = control or (declared["control"] if declared else None)
    if arm_weights is None or chosen_control is None:
        raise ValueError(f"{experiment_id!r} is not in {experiments_path}: pass --control and --weights")
    guardrails = [g for g in (declared["guardrails"] if declared else ()) if g != chosen_metric]
    return run_analysis(
        table,
        experiment_id,
        chosen_metric,
        chosen_control,
        arm_weights,
        alpha,
        correction,
        planned_users_per_arm=planned_users,
        guardrails=guardrails,
    )


def _declared(path: Path, experiment_id: str) -> dict[str, Any] | None:
    """What the experiment file says about the experiment, or None when it is not there."""
    from decision.tiers.experiments.compiler import compile_path

    if not path.exists():
        return None
    for experiment in compile_path(path).experiments:
        if experiment.id == experiment_id:
            control = experiment.control
            return {
                "metric": experiment.metric,
                "weights": {arm.id: w for arm, w in zip(experiment.arms, experiment.weights, strict=True)},
                "control": control.id if control is not None else experiment.arms[0].id,
                "guardrails": experiment.guardrails,
            }
    return None
