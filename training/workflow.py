"""Command bodies with their terminal output (cli.py only parses options).

cli.py imports this lazily so `training --help` answers without importing MLflow.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tqdm import tqdm

from decision.sources.feature_definitions import FEATURE_SET_VERSION
from training import registry
from training.fastpath import service_paths
from training.generate import World, write
from training.io import DataPaths
from training.pipeline import TrainConfig, TrainResult, train
from training.promote import promote
from training.schema import BadRowPolicy

Echo = Callable[[str], None]


def generate_data(out: Path, n_events: int, seed: int, fmt: str = "parquet", per_category: int = 5) -> dict[str, Path]:
    world = World(seed, per_category)
    with tqdm(total=n_events, desc="generate", unit="ev") as bar:
        world.run(n_events, bar.update)
    return write(out, world, fmt)


def data_paths(
    data_dir: Path,
    events: Path | None = None,
    catalog: Path | None = None,
    users: Path | None = None,
) -> DataPaths:
    """Explicit files win; the rest come from the data folder's standard names."""
    if events and catalog:
        return DataPaths(events, catalog, users)
    found = DataPaths.in_dir(data_dir)
    return DataPaths(
        events or found.events,
        catalog or found.catalog,
        users or found.users,
        None if events else found.ground_truth,
    )


def config(common: Mapping[str, Any], **extra: Any) -> TrainConfig:
    """A TrainConfig from the shared data/registry options of the commands."""
    return TrainConfig(
        paths=data_paths(common["data_dir"], common["events"], common["catalog"], common["users"]),
        tracking_uri=common["tracking_uri"],
        model_name=common["model_name"],
        bad_rows=BadRowPolicy(common["bad_rows"]),
        valid=common["valid_frac"],
        test=common["test_frac"],
        **extra,
    )


def run_train(cfg: TrainConfig, echo: Echo) -> TrainResult:
    started = time.monotonic()
    result = train(cfg)
    p = result.prepared
    report = p.inputs.report
    echo(
        f"events: {report.rows_read} read, {report.rows_dropped} dropped"
        + (f" {report.by_column}" if report.rows_dropped else "")
        + (f"; {p.inputs.keyed_events} from served traffic" if cfg.served else "")
    )
    echo(
        f"decisions: {len(p.split.train)} train / {len(p.split.valid)} validation / "
        f"{len(p.split.test)} test; {len(p.spec.items)} catalog items, "
        f"{len(p.dataset.items) / max(len(p.dataset), 1):.1f} candidates per decision"
    )
    repeatable = sum(p.spec.repeatable)
    echo(
        f"feature spec {p.spec.version} (layout {p.spec.layout}): {len(p.spec.categories)} categories, "
        f"{len(p.spec.regions)} regions, {len(p.spec.devices)} devices, {len(p.spec.channels)} channels, "
        f"{len(p.spec.placements)} placements; {repeatable} of {len(p.spec.items)} items repeatable"
    )
    echo(f"model: ranker, {result.booster.num_trees()} trees (best on validation)\n")
    echo(result.evaluation.table() + "\n")
    if cfg.profiles_out is not None:
        echo(f"profiles: {p.profiles} users -> {cfg.profiles_out}")
    reg = result.registered
    where = f"{cfg.model_name} v{reg.version}" if reg.version else "not registered"
    echo(f"mlflow: run {reg.run_id}, {where} ({cfg.tracking_uri})")
    echo(f"done in {time.monotonic() - started:.1f} s")
    return result


def run_bootstrap(
    tracking_uri: str,
    model_name: str,
    data_dir: Path,
    profiles_out: Path,
    n_events: int,
    seed: int,
    echo: Echo,
) -> None:
    """Idempotent: does nothing but report when the model already has a champion this code can
    serve. A champion trained for another feature set (an older release's) could not score a
    request: a new model replaces it, forced past the comparison, which needs one feature set."""
    client = registry.connect(tracking_uri)
    champion = registry.alias_version(client, model_name, registry.CHAMPION)
    trained_for = None if champion is None else registry.feature_set_of(client, model_name, champion)
    if champion is not None and trained_for == FEATURE_SET_VERSION:
        echo(f"{model_name}@{registry.CHAMPION} is already v{champion} in {tracking_uri}; nothing to do")
    else:
        if champion is not None:
            echo(
                f"{model_name}@{registry.CHAMPION} v{champion} was trained for feature set {trained_for or 'unknown'}; "
                f"this code computes {FEATURE_SET_VERSION}, so the service could not score it: "
                "training a new model to replace it"
            )
        if not (data_dir / "catalog.json").exists():
            echo(f"generating {n_events} events (seed {seed}) into {data_dir}")
            generate_data(data_dir, n_events, seed)
        cfg = TrainConfig(
            paths=data_paths(data_dir),
            profiles_out=profiles_out,
            tracking_uri=tracking_uri,
            model_name=model_name,
        )
        version = run_train(cfg, echo).registered.version
        echo(promote(tracking_uri, model_name, version, force=champion is not None).summary())
    echo(service_paths(tracking_uri, model_name, profiles_out, data_dir / "catalog.json"))
