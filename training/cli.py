"""`training`: generate data, train, evaluate, register and promote next-best-content models.

Only option parsing lives here; the heavy modules (pandas, LightGBM, MLflow) are imported
inside the commands so `--help` answers at once.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

import click

from training import defaults

F = TypeVar("F", bound=Callable[..., Any])


def _registry_options(func: F) -> F:
    func = click.option(
        "--model-name",
        default=defaults.MODEL_NAME,
        show_default=True,
        help="Registered model name.",
    )(func)
    return click.option(
        "--tracking-uri",
        envvar="MLFLOW_TRACKING_URI",
        default=defaults.TRACKING_URI,
        show_default=True,
        help="MLflow tracking/registry URI (env MLFLOW_TRACKING_URI).",
    )(func)


def _data_options(func: F) -> F:
    options = [
        click.option(
            "--data",
            "data_dir",
            type=click.Path(path_type=Path),
            default=defaults.DATA_DIR,
            show_default=True,
            help="Folder with events.parquet|csv and catalog.json.",
        ),
        click.option(
            "--events",
            type=click.Path(path_type=Path),
            help="Event log file (overrides the one in --data).",
        ),
        click.option(
            "--catalog",
            type=click.Path(path_type=Path),
            help="Catalog file (overrides the one in --data).",
        ),
        click.option("--users", type=click.Path(path_type=Path), help="Users table (optional)."),
        click.option(
            "--bad-rows",
            type=click.Choice(["fail", "drop"]),
            default="fail",
            show_default=True,
            help="fail on any bad row, or drop bad rows and report the count.",
        ),
        click.option(
            "--test-frac",
            type=float,
            default=0.15,
            show_default=True,
            help="Latest share of decisions held out for evaluation.",
        ),
        click.option(
            "--valid-frac",
            type=float,
            default=0.15,
            show_default=True,
            help="Share before the test part used for early stopping.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _events_option(help_text: str) -> Callable[[F], F]:
    return click.option(
        "--events", "n_events", type=click.IntRange(1_000), default=defaults.EVENTS, show_default=True, help=help_text
    )


def _seed_option(help_text: str) -> Callable[[F], F]:
    return click.option("--seed", type=int, default=defaults.SEED, show_default=True, help=help_text)


_PROFILES_OUT = click.option(
    "--profiles-out",
    type=click.Path(path_type=Path),
    default=defaults.PROFILES,
    show_default=True,
    help="Where to write the profile snapshot the service reads.",
)


def _friendly(func: F) -> F:
    """Turn our own errors into one clear line and exit code 2, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ValueError, defaults.RegistryError) as exc:
            # EventLogError, CatalogError, ProfileStoreError and bad options are ValueErrors
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def main(verbose: bool) -> None:
    """Train and ship next-best-content models for the decision service."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@main.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=defaults.DATA_DIR,
    show_default=True,
    help="Folder to write events, users, catalog.json and ground_truth.parquet into.",
)
@_events_option("Approximate number of events (1,000 to millions).")
@_seed_option("Same seed, same files.")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
@click.option(
    "--items-per-category",
    type=click.IntRange(1, 1_000),
    default=5,
    show_default=True,
    help="Catalog items per category (8 categories): 5 is the 40-item world, 125 a 1,000-item one.",
)
@_friendly
def generate(out: Path, n_events: int, seed: int, fmt: str, items_per_category: int) -> None:
    """Write a synthetic event log, users, catalog and ground truth into OUT."""
    from training.workflow import generate_data

    for name, path in generate_data(out, n_events, seed, fmt, items_per_category).items():
        click.echo(f"{name:<13} {path}")


@main.command("convert-movielens")
@click.option(
    "--source",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="The recbole wheel (`pip download recbole==1.2.1 --no-deps`: MovieLens 100k), a folder of "
    "RecBole atomic files (.inter + .item), or a GroupLens folder (ratings.csv + movies.csv).",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for events.csv and catalog.json.")
@click.option(
    "--catalog-size",
    type=click.IntRange(1),
    default=30,
    show_default=True,
    help="The catalog: this many most-rated movies.",
)
@_friendly
def convert_movielens(source: Path, out: Path, catalog_size: int) -> None:
    """Turn MovieLens ratings into an event log (every rating a click on m<id>) and a catalog."""
    from training.convert.movielens import convert

    for name, path in convert(source, out, catalog_size).items():
        click.echo(f"{name:<8} {path}")


@main.command()
@_data_options
@_registry_options
@_PROFILES_OUT
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="LightGBM parameter override, repeatable (e.g. --param num_leaves=31).",
)
@click.option(
    "--rounds",
    type=click.IntRange(1),
    default=defaults.ROUNDS,
    show_default=True,
    help="Maximum boosting rounds (trees per class).",
)
@click.option(
    "--register/--no-register",
    default=True,
    show_default=True,
    help="Register the model in the MLflow registry (the run is logged either way).",
)
@click.option(
    "--served",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Joined table(s) (`training join`) whose served traffic, consented decisions only, is added to the events.",
)
@_friendly
def train(
    profiles_out: Path, params: tuple[str, ...], rounds: int, register: bool, served: tuple[Path, ...], **common: Any
) -> None:
    """Build features, train, evaluate on the test split, log and register the model."""
    from training.train import parse_param
    from training.workflow import config, run_train

    overrides = dict(parse_param(p) for p in params)
    cfg = config(common, profiles_out=profiles_out, params=overrides, rounds=rounds, register=register, served=served)
    run_train(cfg, click.echo)


@main.command()
@_data_options
@_registry_options
@click.option("--version", help="Model version to evaluate (default: the champion).")
@_friendly
def evaluate(version: str | None, **common: Any) -> None:
    """Evaluate a registered version on a data set's test split, against the baselines."""
    from training.pipeline import evaluate_registered
    from training.workflow import config

    started = time.monotonic()
    found, evaluation = evaluate_registered(config(common, profiles_out=None), version)
    click.echo(
        f"{common['model_name']} v{found} on {common['data_dir']} (test split, {time.monotonic() - started:.1f} s)\n"
    )
    click.echo(evaluation.table())


@main.command()
@_registry_options
@click.option("--version", help="Candidate version (default: the latest).")
@click.option(
    "--metric",
    default="hr1",
    show_default=True,
    type=click.Choice(["hr1", "hr3", "hr5", "ndcg3"]),
    help="Metric compared on the candidate's test set (hit rate at 1/3/5, NDCG@3).",
)
@click.option(
    "--margin",
    type=float,
    default=0.005,
    show_default=True,
    help="How much better than the champion the candidate must be.",
)
@click.option("--force", is_flag=True, help="Promote regardless (recorded in a version tag).")
@click.option(
    "--gate",
    type=click.Choice(["offline", "ope", "both"]),
    default="offline",
    show_default=True,
    help="offline: the metric on the test set; ope: the value estimated on the champion's served "
    "traffic (needs --joined, and decisions served with DECISION_MODEL_EXPLORATION); both: both must pass.",
)
@click.option(
    "--joined",
    type=click.Path(path_type=Path),
    default=Path("var/joined.parquet"),
    show_default=True,
    help="The champion's served decisions and outcomes (`training join`), for --gate ope|both.",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path),
    default=defaults.DATA_DIR,
    show_default=True,
    help="Event log and catalog the served profiles came from, for --gate ope|both.",
)
@click.option(
    "--ope-estimator",
    type=click.Choice(["IPS", "SNIPS", "DM", "DR"]),
    default="DR",
    show_default=True,
    help="Whose lower bound the off-policy gate reads.",
)
@click.option(
    "--ope-margin",
    type=float,
    default=0.0,
    show_default=True,
    help="How much the candidate's lower bound must exceed the champion's value by.",
)
@_friendly
def promote(
    tracking_uri: str,
    model_name: str,
    version: str | None,
    metric: str,
    margin: float,
    force: bool,
    gate: Literal["offline", "ope", "both"],
    joined: Path,
    data_dir: Path,
    ope_estimator: str,
    ope_margin: float,
) -> None:
    """Make a version champion if it beats the champion: offline on the same test data, and/or off-policy."""
    from training.ope.traffic import ChampionTraffic
    from training.promote import promote as run_promote
    from training.workflow import data_paths

    traffic = None
    if gate != "offline":
        traffic = ChampionTraffic(joined, data_paths(data_dir), estimator=ope_estimator, margin=ope_margin)
    click.echo(run_promote(tracking_uri, model_name, version, metric, margin, force, gate, traffic).summary())


@main.command()
@_registry_options
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path),
    default=defaults.DATA_DIR,
    show_default=True,
    help="Data folder; generated here if it has no catalog.json.",
)
@_PROFILES_OUT
@_events_option("Events to generate when there is no data yet.")
@_seed_option("Generator seed.")
@_friendly
def bootstrap(tracking_uri: str, model_name: str, data_dir: Path, profiles_out: Path, n_events: int, seed: int) -> None:
    """One-shot quick start: data, model, champion and snapshot, unless a champion this code can serve exists."""
    from decision.sources.feature_definitions import FEATURE_SET_VERSION
    from training.fastpath import service_paths, sqlite_alias

    champion = sqlite_alias(tracking_uri, model_name, "champion", FEATURE_SET_VERSION)
    if champion is not None:
        click.echo(f"{model_name}@champion is already v{champion} in {tracking_uri}; nothing to do")
        click.echo(service_paths(tracking_uri, model_name, profiles_out, data_dir / "catalog.json"))
        return
    from training.workflow import run_bootstrap

    run_bootstrap(tracking_uri, model_name, data_dir, profiles_out, n_events, seed, click.echo)


def _register_subcommands() -> None:
    """The areas that live in training/commands/ (imported lazily by their own commands)."""
    from training.commands.experiments import experiments
    from training.commands.learning import ope, regret
    from training.commands.loop import join, kpi, simulate
    from training.commands.segments import segments

    for command in (experiments, ope, regret, simulate, join, kpi, segments):
        main.add_command(command)


_register_subcommands()
