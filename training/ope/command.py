"""What `training ope` does, as functions the click command calls: read the logs, evaluate, print, write the page.

No option parsing here (that stays in training/cli.py) and no printing of its own: the
caller passes `echo` (click.echo), so the functions run the same in tests and notebooks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import pandas as pd

from training import registry
from training.io import DataPaths
from training.ope.gate import logged_with_choices
from training.ope.joined import ActionKind, read_joined
from training.ope.logged import LogError, LoggedFeedback
from training.ope.obd import DEFAULT_ROOT, UniformCheck, read_obd, uniform_check
from training.ope.policies import ChosenActionPolicy, TargetPolicy, policy_from_spec
from training.ope.report import terminal_table, write_report, write_uniform_check_report
from training.ope.rescore import first_choices
from training.ope.run import OpeConfig, OpeResult, run_ope
from training.ope.traffic import replay_inputs
from training.report.table import render_frame

LogFormat = Literal["joined", "obd"]
Echo = Callable[[str], None]


def read_logs(
    path: Path,
    log_format: LogFormat = "joined",
    action: ActionKind = "content",
    experiment_id: str | None = None,
    sources: Sequence[str] | None = None,
) -> LoggedFeedback:
    """Logged decisions from the joined table (Parquet) or an Open Bandit Dataset campaign (CSV file or folder)."""
    if log_format == "joined":
        return read_joined(path, action, experiment_id, sources)
    if log_format == "obd":
        return read_obd(path)
    raise LogError(f"unknown log format {log_format!r}: use 'joined' or 'obd'")


def evaluate_policy(
    logged: LoggedFeedback,
    policy: TargetPolicy | str,
    html: Path,
    echo: Echo,
    config: OpeConfig | None = None,
) -> OpeResult:
    """Run every estimator, print the table, write the HTML page; `policy` may be 'uniform' or 'fixed:<action>'."""
    target = policy_from_spec(policy) if isinstance(policy, str) else policy
    result = run_ope(logged, target, config, progress=echo)
    echo(terminal_table(result))
    echo(f"report: {write_report(result, html)}")
    return result


def evaluate_model(
    joined: Path,
    tracking_uri: str,
    model_name: str,
    version: str,
    data: DataPaths,
    html: Path,
    echo: Echo,
    config: OpeConfig | None = None,
) -> OpeResult:
    """A registered model version as the policy, on the model tier's decisions of the joined table.

    Each decision is re-scored by the version (training/ope/rescore.py) and its first choice
    taken with probability 1; the decisions must have been served with exploration for any
    choice other than the served one to count.
    """
    frame = pd.read_parquet(joined)
    decisions = frame[(frame["source"] == "MODEL") & (frame["content_id"] != "")].reset_index(drop=True)
    if decisions.empty:
        raise LogError(f"{joined}: no decisions of the model tier to evaluate a model on")
    model = registry.load_model(registry.connect(tracking_uri), model_name, version)
    inputs = replay_inputs(joined, data)
    echo(f"re-scoring {len(decisions):,} model-tier decisions with {model_name} v{version}")
    choices = first_choices(model, decisions, inputs.events, inputs.catalog)
    logged = logged_with_choices(decisions.assign(model_choice=choices), ("model_choice",))
    return evaluate_policy(logged, ChosenActionPolicy("model_choice", f"{model_name} v{version}"), html, echo, config)


def check_on_open_bandit_data(
    html: Path, echo: Echo, root: Path = DEFAULT_ROOT, config: OpeConfig | None = None
) -> UniformCheck:
    """The uniform policy's click rate from the bts logs against the random logs' own, per campaign."""
    check = uniform_check(root, config)
    shown = check.rows.assign(
        ESS=[f"{ess:,.1f}" for ess in check.rows["ESS"]], z=[f"{z:+.2f}" for z in check.rows["z"]]
    )
    echo(render_frame(shown, text_columns=2, digits=5))
    echo(f"IPS and SNIPS within 1.96 combined SE in every campaign: {'yes' if check.passed else 'NO'}")
    echo(f"report: {write_uniform_check_report(check, html)}")
    return check
