"""`training ope` and `training regret`: judge a policy on logged decisions; compare bandits on simulated traffic."""

from __future__ import annotations

from pathlib import Path

import click

from training import defaults
from training.commands.common import friendly


@click.command()
@click.argument("logs", type=click.Path(path_type=Path), required=False)
@click.option(
    "--format",
    "log_format",
    type=click.Choice(["joined", "obd"]),
    default="joined",
    show_default=True,
    help="joined: `training join`'s table; obd: an Open Bandit Dataset campaign (CSV or folder).",
)
@click.option(
    "--policy",
    default="uniform",
    show_default=True,
    help="The policy to evaluate: uniform; fixed:<action> (an arm or content id); weights:A=0.2,B=0.8 "
    "(a fixed split); model:<version> (a registered version re-scoring the model tier's decisions).",
)
@click.option(
    "--action",
    type=click.Choice(["content", "arm"]),
    default="content",
    show_default=True,
    help="What an action is in the joined table: the shown content, or an experiment's arm.",
)
@click.option("--experiment", "experiment_id", help="Only this experiment's decisions (with --action arm).")
@click.option("--html", type=click.Path(path_type=Path), default=Path("var/reports/ope.html"), show_default=True)
@click.option(
    "--check-obd",
    type=click.Path(path_type=Path),
    help="Instead: the uniform policy's click rate estimated from an Open Bandit Dataset's bts logs, "
    "against its random logs' own (folder holding random/ and bts/).",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path),
    default=defaults.DATA_DIR,
    show_default=True,
    help="With model:<version>: the event log and catalog the served profiles came from.",
)
@click.option("--model-name", default=defaults.MODEL_NAME, show_default=True, help="With model:<version>.")
@click.option(
    "--tracking-uri",
    envvar="MLFLOW_TRACKING_URI",
    default=defaults.TRACKING_URI,
    show_default=True,
    help="With model:<version>: the MLflow registry (env MLFLOW_TRACKING_URI).",
)
@friendly
def ope(
    logs: Path | None,
    log_format: str,
    policy: str,
    action: str,
    experiment_id: str | None,
    html: Path,
    check_obd: Path | None,
    data_dir: Path,
    model_name: str,
    tracking_uri: str,
) -> None:
    """Estimate a policy's value from logged decisions: IPS, SNIPS, direct method, doubly robust."""
    from training.ope.command import check_on_open_bandit_data, evaluate_model, evaluate_policy, read_logs
    from training.workflow import data_paths

    if check_obd is not None:
        check = check_on_open_bandit_data(html, click.echo, check_obd)
        raise SystemExit(0 if check.passed else 1)
    if logs is None:
        raise click.UsageError("give LOGS (the joined table or an Open Bandit Dataset campaign), or --check-obd")
    if policy.startswith("model:"):
        if log_format != "joined" or action != "content":
            raise click.UsageError("model:<version> is evaluated on the joined table's shown content only")
        version = policy.removeprefix("model:")
        evaluate_model(logs, tracking_uri, model_name, version, data_paths(data_dir), html, click.echo)
        return
    logged = read_logs(logs, log_format, action, experiment_id)  # type: ignore[arg-type]
    evaluate_policy(logged, policy, html, click.echo)


@click.command()
@click.option("--decisions", type=click.IntRange(1_000), default=100_000, show_default=True)
@click.option(
    "--refresh", type=click.IntRange(1), default=500, show_default=True, help="Decisions between state refreshes."
)
@click.option(
    "--arms",
    default="home-1,home-2,beauty-3,fashion-1,sports-2",
    show_default=True,
    help="Catalog items compared as arms; their click rates per segment come from the simulator's ground truth.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--html", type=click.Path(path_type=Path), default=Path("var/reports/regret.html"), show_default=True)
@friendly
def regret(decisions: int, refresh: int, arms: str, seed: int, html: Path) -> None:
    """Cumulative regret of Thompson, UCB1, epsilon-greedy and a fixed split on the simulator's segments."""
    from training.bandits.regret import simulate_regret
    from training.bandits.regret_report import report_regret
    from training.bandits.simulator_arms import segment_arm_rates

    content = [a.strip() for a in arms.split(",") if a.strip()]
    if len(content) < 2:
        raise click.BadParameter("give at least two arms", param_hint="--arms")
    rates = segment_arm_rates(content, seed=seed)
    report_regret(simulate_regret(rates, decisions=decisions, refresh=refresh, seed=seed), html, click.echo)
