"""The steps the commands run: load → features → split → fit → evaluate → register.

Kept out of cli.py so tests and benchmarks drive exactly what the commands do.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from tqdm import tqdm

from decision.sources.catalog import Catalog
from decision.sources.feature_spec import FeatureSpec
from decision.sources.features import FEATURE_SET_VERSION
from decision.sources.forgotten import read_keys
from decision.sources.profiles import write_snapshot
from training import defaults, registry
from training import evaluate as ev
from training.features import Dataset, build
from training.io import DataPaths, Inputs, load
from training.schema import BadRowPolicy
from training.served.events import served_events
from training.spec import learn as learn_spec
from training.split import Split, cuts, temporal
from training.train import DEFAULT_ROUNDS, fit, predict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    paths: DataPaths
    profiles_out: Path | None  # None: do not write a snapshot (evaluate)
    tracking_uri: str = defaults.TRACKING_URI
    model_name: str = defaults.MODEL_NAME
    bad_rows: BadRowPolicy = BadRowPolicy.FAIL
    params: Mapping[str, Any] = field(default_factory=dict)
    rounds: int = DEFAULT_ROUNDS
    valid: float = 0.15
    test: float = 0.15
    register: bool = True
    progress: bool = True
    user_key_path: Path = defaults.USER_KEY_PATH
    forgotten_path: Path = defaults.FORGOTTEN_PATH
    served: tuple[Path, ...] = ()  # joined tables (`training join`) whose served traffic is appended as events


@dataclass(frozen=True)
class Prepared:
    inputs: Inputs
    dataset: Dataset
    split: Split
    spec: FeatureSpec
    profiles: int


@dataclass(frozen=True)
class TrainResult:
    evaluation: ev.Evaluation
    registered: registry.Registered
    booster: lgb.Booster
    prepared: Prepared


def prepare(cfg: TrainConfig) -> Prepared:
    """Load and validate (plus served traffic), learn the spec, build point-in-time rows, write the snapshot, split."""
    served = [served_events(path) for path in cfg.served]
    forgotten = read_keys(cfg.forgotten_path)
    inputs = load(cfg.paths, defaults.pseudonymizer(cfg.user_key_path), cfg.bad_rows, served, forgotten)
    events = inputs.events
    times = decision_times(events, inputs.catalog)
    cut_valid, _ = cuts(times, cfg.valid, cfg.test)  # fails on too little data: before any work
    valid_from = pd.Timestamp(times[cut_valid]).to_pydatetime()
    spec = learn_spec(events[events["timestamp"] < times[cut_valid]], inputs.catalog)
    with tqdm(total=len(events), desc="features", unit="ev", disable=not cfg.progress) as bar:
        replay = build(events, inputs.catalog, spec, sample_before=valid_from, progress=bar.update)
    split = temporal(replay.dataset, cfg.valid, cfg.test)
    written = 0
    if cfg.profiles_out is not None:
        written = write_snapshot(cfg.profiles_out, replay.profiles, replay.as_of, replay.spec.layout)
    return Prepared(inputs, replay.dataset, split, replay.spec, written)


def decision_times(events: pd.DataFrame, catalog: Catalog) -> np.ndarray:
    """The time of every decision (a click on catalog content), in time order."""
    clicks = events[(events["event_type"] == "click") & events["content_id"].isin(catalog.content_ids)]
    return np.sort(clicks["timestamp"].to_numpy(), kind="stable")


def train(cfg: TrainConfig) -> TrainResult:
    """The whole `training train` command: one MLflow run, registered unless told not to."""
    prepared = prepare(cfg)
    split = prepared.split
    with tqdm(total=cfg.rounds, desc="boosting", unit="round", disable=not cfg.progress) as bar:
        booster, params = fit(split.train, split.valid, cfg.params, cfg.rounds, lambda i: bar.update(1))
    evaluation = evaluate_booster(booster, prepared)
    registered = _log(cfg, prepared, booster, params, evaluation)
    return TrainResult(evaluation, registered, booster, prepared)


def evaluate_booster(booster: lgb.Booster, prepared: Prepared) -> ev.Evaluation:
    """Model vs popularity, recent popularity and personal history (vs ground truth) on the test split."""
    inputs, test = prepared.inputs, prepared.split.test
    segments = None
    if inputs.users is not None and "segment" in inputs.users.columns:
        segments = inputs.users[["segment"]]
    truth = None
    if inputs.ground_truth is not None:
        truth = ev.truth_ranks(test, prepared.spec.items, inputs.ground_truth)
    methods = {"model": predict(booster, test.X), **ev.baselines(test)}
    return ev.evaluate(test, methods, truth, segments)


def evaluate_registered(cfg: TrainConfig, version: str | None) -> tuple[str, ev.Evaluation]:
    """`training evaluate`: a registered version (default: the champion) on cfg's data."""
    client = registry.connect(cfg.tracking_uri)
    version = version or registry.alias_version(client, cfg.model_name, registry.CHAMPION)
    if version is None:
        raise defaults.RegistryError(f"{cfg.model_name!r} has no champion; pass --version or run `training promote`")
    model = registry.load_model(client, cfg.model_name, version)
    if model.feature_set_version != FEATURE_SET_VERSION:
        raise defaults.RegistryError(
            f"v{version} was trained on feature set {model.feature_set_version}; this code "
            f"computes {FEATURE_SET_VERSION}. Evaluate it with the code that trained it."
        )
    return version, evaluate_booster(model.booster, prepare(cfg))


def _log(
    cfg: TrainConfig,
    prepared: Prepared,
    booster: lgb.Booster,
    params: Mapping[str, Any],
    evaluation: ev.Evaluation,
) -> registry.Registered:
    split, inputs = prepared.split, prepared.inputs
    test = split.test
    run_params = {
        **params,
        "data_events": str(cfg.paths.events),
        "rows_train": len(split.train),
        "rows_valid": len(split.valid),
        "rows_test": len(test),
        "events": len(inputs.events),
        "events_dropped": inputs.report.rows_dropped,
        "events_served": inputs.keyed_events,
        "users": prepared.profiles,
        "rows_train_candidates": len(split.train.items),
        "catalog_items": len(prepared.spec.items),
        "feature_spec_version": prepared.spec.version,
        "best_iteration": booster.current_iteration(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        test_set = Path(tmp) / "test_set.npz"
        registry.TestSet(test.X, test.starts, test.label_row).save(test_set)
        return registry.log_training(
            cfg.tracking_uri,
            cfg.model_name,
            booster,
            prepared.spec,
            _example(test.X),
            run_params,
            evaluation.metrics(),
            inputs.fingerprint,
            files={
                "data": cfg.paths.catalog,
                "evaluation": test_set,
                **({"profiles": cfg.profiles_out} if cfg.profiles_out else {}),
            },
            texts={
                "evaluation/evaluation.txt": evaluation.table(),
                "evaluation/evaluation.json": json.dumps(
                    {
                        "overall": evaluation.overall,
                        "intervals": evaluation.intervals,
                        "decisions": evaluation.decisions,
                        "segments": evaluation.segments.to_dict(orient="records"),
                    },
                    indent=2,
                ),
            },
            register=cfg.register,
        )


def _example(X: np.ndarray) -> np.ndarray:
    """A few real rows for the input example, preferring rows without NaN (JSON-friendly)."""
    complete = X[~np.isnan(X).any(axis=1)]
    rows: np.ndarray = (complete if len(complete) >= 3 else np.nan_to_num(X))[:8]
    return rows
