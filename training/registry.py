"""Everything MLflow: runs, the logged model, registration, aliases and tags.

The only training module that imports mlflow. Default store: a local SQLite registry
(`sqlite:///var/mlflow/mlflow.db`, relative to the cwd) with file artifacts beside it in
`var/mlflow/artifacts`; any tracking URI works (then the server decides where artifacts go).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

from decision.sources.feature_spec import SPEC_FILE, FeatureSpec
from decision.sources.features import FEATURE_DESCRIPTIONS, FEATURE_NAMES, FEATURE_SET_VERSION
from training.defaults import RegistryError

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
TEST_SET = "evaluation/test_set.npz"


@dataclass(frozen=True)
class Registered:
    run_id: str
    version: str | None  # None with --no-register


@dataclass(frozen=True)
class LoadedModel:
    version: str
    booster: lgb.Booster
    spec_version: str
    spec_layout: str
    feature_set_version: str
    run_id: str
    #: the feature spec logged inside the model (None: a model from before the spec)
    spec: FeatureSpec | None = None


def connect(tracking_uri: str) -> MlflowClient:
    """Point mlflow at the store; for SQLite, create the database's folder first."""
    if tracking_uri.startswith("sqlite:///"):
        _sqlite_path(tracking_uri).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def log_training(
    tracking_uri: str,
    model_name: str,
    booster: lgb.Booster,
    spec: FeatureSpec,
    example: np.ndarray,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    data_fingerprint: str,
    files: Mapping[str, Path],
    texts: Mapping[str, str],
    register: bool = True,
) -> Registered:
    """One MLflow run: params, metrics, feature list, inputs, the model (+ registration).

    The feature spec travels inside the model (`extra_files/feature_spec.json`, its version
    in the metadata), so whoever loads the model has the vocabularies its rows need.
    `files` are logged as artifacts under their key (a folder); `texts` as text files.
    """
    connect(tracking_uri)
    experiment_id = experiment(tracking_uri, model_name)
    frame = pd.DataFrame(example, columns=list(FEATURE_NAMES))
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        mlflow.log_metrics({k: v for k, v in metrics.items() if np.isfinite(v)})
        mlflow.set_tags(
            {
                "feature_set_version": FEATURE_SET_VERSION,
                "feature_spec_version": spec.version,
                "data_fingerprint": data_fingerprint,
            }
        )
        mlflow.log_dict(
            {
                "feature_set_version": FEATURE_SET_VERSION,
                "feature_spec_version": spec.version,
                "features": [{"name": n, "definition": FEATURE_DESCRIPTIONS[n]} for n in FEATURE_NAMES],
            },
            "features.json",
        )
        for folder, path in files.items():
            mlflow.log_artifact(str(path), artifact_path=folder)
        for name, text in texts.items():
            mlflow.log_text(text, name)
        spec_dir = tempfile.TemporaryDirectory()
        spec_file = Path(spec_dir.name) / Path(SPEC_FILE).name
        spec.save(spec_file)
        info = mlflow.lightgbm.log_model(
            booster,
            name="model",
            signature=infer_signature(frame, booster.predict(example)),
            input_example=frame,
            registered_model_name=model_name if register else None,
            metadata={
                "feature_names": list(FEATURE_NAMES),
                "feature_set_version": FEATURE_SET_VERSION,
                "feature_spec_version": spec.version,
                "feature_spec_layout": spec.layout,
                "formulation": "ranker",
            },
            extra_files=[str(spec_file)],
            # explicit requirements: inferring them spawns a slow subprocess
            pip_requirements=[f"lightgbm=={lgb.__version__}", f"numpy=={np.__version__}"],
        )
        spec_dir.cleanup()
    version = str(info.registered_model_version) if register else None
    if version is not None:
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        client.set_model_version_tag(model_name, version, "feature_set_version", FEATURE_SET_VERSION)
        client.set_model_version_tag(model_name, version, "feature_spec_version", spec.version)
        client.set_model_version_tag(model_name, version, "data_fingerprint", data_fingerprint)
    return Registered(run.info.run_id, version)


@dataclass(frozen=True)
class TestSet:
    """The held-out candidate rows promotion re-scores both models on."""

    X: np.ndarray
    starts: np.ndarray  # decision i owns rows starts[i]:starts[i + 1]
    label_row: np.ndarray  # the clicked content's row within its decision, -1 if not a candidate

    def save(self, path: Path) -> None:
        np.savez_compressed(path, X=self.X, starts=self.starts, label_row=self.label_row)


def load_test_set(client: MlflowClient, run_id: str) -> TestSet:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = client.download_artifacts(run_id, TEST_SET, tmp)
        except (MlflowException, OSError) as exc:
            raise RegistryError(f"run {run_id} has no {TEST_SET}; was it logged by `training train`?") from exc
        with np.load(path, allow_pickle=False) as data:
            if "starts" not in data:
                raise RegistryError(f"run {run_id}: {TEST_SET} predates the ranker; retrain to compare with it")
            return TestSet(data["X"], data["starts"], data["label_row"])


def load_model(client: MlflowClient, model_name: str, version: str) -> LoadedModel:
    """The booster, its feature spec and its metadata for a registered version."""
    mv = client.get_model_version(model_name, version)
    with tempfile.TemporaryDirectory() as tmp:
        # one download: the booster, the MLmodel metadata and the spec beside it
        uri = client.get_model_version_download_uri(model_name, version)
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp))
        booster = mlflow.lightgbm.load_model(str(local))
        meta = mlflow.models.Model.load(str(local / "MLmodel")).metadata or {}
        spec = FeatureSpec.load(local / SPEC_FILE) if (local / SPEC_FILE).is_file() else None
    return LoadedModel(
        version=str(mv.version),
        booster=booster,
        spec_version=str(meta.get("feature_spec_version", "")),
        spec_layout=str(meta.get("feature_spec_layout", "")),
        feature_set_version=str(meta.get("feature_set_version", "")),
        run_id=str(mv.run_id),
        spec=spec,
    )


def alias_version(client: MlflowClient, model_name: str, alias: str) -> str | None:
    """The version an alias points at, or None (no model, or no such alias)."""
    try:
        return str(client.get_model_version_by_alias(model_name, alias).version)
    except MlflowException:
        return None


def feature_set_of(client: MlflowClient, model_name: str, version: str) -> str | None:
    """The feature set a registered version was trained for (its tag), None if untagged."""
    tag = client.get_model_version(model_name, version).tags.get("feature_set_version")
    return None if tag is None else str(tag)


def latest_version(client: MlflowClient, model_name: str) -> str:
    versions = client.search_model_versions(f"name = '{model_name}'")
    if not versions:
        raise RegistryError(f"no registered model {model_name!r}; run `training train` first")
    return str(max(int(v.version) for v in versions))


def record(client: MlflowClient, model_name: str, version: str, alias: str | None, tags: Mapping[str, str]) -> None:
    """Point `alias` at `version` (if given) and tag the version."""
    if alias:
        client.set_registered_model_alias(model_name, alias, version)
    for key, value in tags.items():
        client.set_model_version_tag(model_name, version, key, value)


def experiment(tracking_uri: str, name: str) -> str:
    """The id of the experiment `name`, created on first use (SQLite: artifacts beside the database)."""
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    location = None
    if tracking_uri.startswith("sqlite:///"):
        location = (_sqlite_path(tracking_uri).parent / "artifacts").resolve().as_uri()
    return str(mlflow.create_experiment(name, artifact_location=location))


def _sqlite_path(tracking_uri: str) -> Path:
    return Path(tracking_uri.removeprefix("sqlite:///"))
