"""`training segments`: discover behavioural segments (RFM + clustering) and ship the model the service reads."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from training import defaults
from training.commands.common import friendly


@click.command()
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=defaults.DATA_DIR, show_default=True)
@click.option("--events", type=click.Path(path_type=Path), help="Event log file (default: the one in --data).")
@click.option("--users", type=click.Path(path_type=Path), help="Users table (a `segment` column is compared with).")
@click.option("--bad-rows", type=click.Choice(["fail", "drop"]), default="fail", show_default=True)
@click.option("--as-of", type=click.DateTime(), help="Behaviour as of this time (default: the end of the log).")
@click.option("--k-min", type=click.IntRange(2), default=3, show_default=True, help="Fewest segments tried.")
@click.option("--k-max", type=click.IntRange(2), default=8, show_default=True, help="Most segments tried.")
@click.option("--min-size", type=click.IntRange(1), default=100, show_default=True, help="Smaller clusters are merged.")
@click.option("--bootstrap", type=click.IntRange(0), default=10, show_default=True, help="Resamples for stability.")
@click.option("--seed", type=int, default=defaults.SEED, show_default=True)
@click.option("--feature", "features", multiple=True, help="Features to cluster on, repeatable (default set).")
@click.option(
    "--scaling",
    type=click.Choice(["within", "total"]),
    default="within",
    show_default=True,
    help="Measure each feature in its pooled within-segment SD (found with the segments) or its population SD.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("var/segments.json"),
    show_default=True,
    help="The segment model the service reads (DECISION_SEGMENTS_PATH).",
)
@click.option("--report", type=click.Path(path_type=Path), default=Path("var/reports/segments.html"), show_default=True)
@click.option(
    "--tracking-uri",
    envvar="MLFLOW_TRACKING_URI",
    default=defaults.TRACKING_URI,
    show_default=True,
    help="MLflow registry the model is versioned in (env MLFLOW_TRACKING_URI).",
)
@click.option("--model-name", default="segments", show_default=True, help="Registered model name.")
@click.option("--no-mlflow", is_flag=True, help="Do not log or register anything.")
@friendly
def segments(
    data_dir: Path,
    events: Path | None,
    users: Path | None,
    bad_rows: str,
    as_of: datetime | None,
    k_min: int,
    k_max: int,
    min_size: int,
    bootstrap: int,
    seed: int,
    features: tuple[str, ...],
    scaling: str,
    out: Path,
    report: Path,
    tracking_uri: str,
    model_name: str,
    no_mlflow: bool,
) -> None:
    """Segments from behaviour: k by silhouette, stability by bootstrap, small clusters merged, each named."""
    from training.schema import BadRowPolicy
    from training.segments.clustering import Scaling
    from training.segments.command import SegmentsConfig, run_segments
    from training.segments.discovery import DEFAULT_FEATURES

    if k_max < k_min:
        raise click.BadParameter(f"--k-max {k_max} is below --k-min {k_min}", param_hint="--k-max")
    config = SegmentsConfig(
        data_dir=data_dir,
        events=events,
        users=users,
        as_of=as_of,
        k_range=range(k_min, k_max + 1),
        min_size=min_size,
        seed=seed,
        bootstrap=bootstrap,
        features=features or DEFAULT_FEATURES,
        scaling=Scaling(scaling),
        bad_rows=BadRowPolicy(bad_rows),
        model_out=out,
        report_out=report,
        tracking_uri=None if no_mlflow else tracking_uri,
        model_name=model_name,
    )
    run_segments(config, click.echo)
