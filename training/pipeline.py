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
from tqdm import tqdm

from decision.sources.features import FEATURE_SET_VERSION
from decision.sources.forgotten import read_keys
from decision.sources.profiles import write_snapshot
from training import defaults, registry
from training import evaluate as ev
from training.features import Dataset, build, snapshot_time
from training.io import DataPaths, Inputs, load
from training.schema import BadRowPolicy
from training.served.events import served_events
from training.split import Split, temporal
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
    profiles: int


@dataclass(frozen=True)
class TrainResult:
    evaluation: ev.Evaluation
    registered: registry.Registered
    booster: lgb.Booster
    prepared: Prepared


def prepare(cfg: TrainConfig) -> Prepared:
    """Load and validate (plus served traffic), build point-in-time rows, write the profile snapshot, split."""
    served = [served_events(path) for path in cfg.served]
    forgotten = read_keys(cfg.forgotten_path)
    inputs = load(cfg.paths, defaults.pseudonymizer(cfg.user_key_path), cfg.bad_rows, served, forgotten)
    with tqdm(total=len(inputs.events), desc="features", unit="ev", disable=not cfg.progress) as bar:
        dataset, profiles = build(inputs.events, inputs.catalog, bar.update)
    split = temporal(dataset, cfg.valid, cfg.test)  # fails on too little data: before writing
    written = 0
    if cfg.profiles_out is not None:
        written = write_snapshot(cfg.profiles_out, profiles, snapshot_time(inputs.events))
    return Prepared(inputs, dataset, split, written)


def train(cfg: TrainConfig) -> TrainResult:
    """The whole `training train` command: one MLflow run, registered unless told not to."""
    prepared = prepare(cfg)
    split = prepared.split
    with tqdm(total=cfg.rounds, desc="boosting", unit="round", disable=not cfg.progress) as bar:
        booster, params = fit(split.train, split.valid, cfg.params, cfg.rounds, lambda i: bar.update(1))
    evaluation = evaluate_booster(booster, prepared)
    registered = _log(cfg, prepared, booster, params, evaluation)
    return TrainResult(evaluation, registered, booster, prepared)


def evaluate_booster(booster: lgb.Booster, prepared: Prepared, classes: tuple[str, ...] | None = None) -> ev.Evaluation:
    """Model vs popularity vs personal (vs ground truth) on the test split."""
    split, inputs = prepared.split, prepared.inputs
    test = split.test
    scores = align(predict(booster, test.X), classes or test.classes, test.classes)
    popular = ev.popularity(split.train)
    segments = None
    if inputs.users is not None and "segment" in inputs.users.columns:
        segments = inputs.users[["segment"]]
    return ev.evaluate(
        test,
        {"model": scores, "popularity": popular, "personal": ev.personal(test, popular)},
        inputs.ground_truth,
        segments,
    )


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
    return version, evaluate_booster(model.booster, prepare(cfg), model.classes)


def align(probs: np.ndarray, model_classes: tuple[str, ...], classes: tuple[str, ...]) -> np.ndarray:
    """Reorder a model's class columns to `classes`; content it does not know scores 0."""
    if tuple(model_classes) == tuple(classes):
        return probs
    out = np.zeros((len(probs), len(classes)))
    where = {c: i for i, c in enumerate(model_classes)}
    for j, content_id in enumerate(classes):
        if content_id in where:
            out[:, j] = probs[:, where[content_id]]
    return out


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
        "classes": len(test.classes),
        "best_iteration": booster.current_iteration(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        test_set = Path(tmp) / "test_set.npz"
        registry.TestSet(test.X, test.y, test.eligible, test.classes).save(test_set)
        return registry.log_training(
            cfg.tracking_uri,
            cfg.model_name,
            booster,
            test.classes,
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
    rows: np.ndarray = (complete if len(complete) >= 3 else np.nan_to_num(X))[:3]
    return rows
