"""A real SQLite MLflow registry per test, copied from one migrated template per session."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse
from uuid import uuid4

import lightgbm as lgb
import pytest

from decision.tiers.model.artifact import LocalModel, read_local_model
from tests.decision.tiers.model import builders

FAST_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "2",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}


@pytest.fixture(autouse=True)
def _mlflow_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """RegistryClient setdefault()s these; pre-set them so tests leave os.environ as found."""
    for key, value in FAST_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Creating MLflow's schema takes seconds; do it once and copy the file."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@dataclass
class Registry:
    uri: str
    root: Path
    db: Path
    experiment_id: str
    name: str

    @property
    def client(self):  # type: ignore[no-untyped-def]
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def register(self, booster: lgb.Booster | None = None, **meta: object) -> str:
        """Log and register a model version; returns its version number."""
        import mlflow

        booster = booster or builders.train_booster()
        kwargs = builders.model_kwargs(booster, builders.metadata(**meta))  # type: ignore[arg-type]
        with mlflow.start_run(experiment_id=self.experiment_id):
            info = mlflow.lightgbm.log_model(booster, name="model", registered_model_name=self.name, **kwargs)
        return str(info.registered_model_version)

    def set_alias(self, version: str, alias: str = "champion") -> None:
        self.client.set_registered_model_alias(self.name, alias, version)

    def model_file(self, version: str) -> Path:
        uri = self.client.get_model_version_download_uri(self.name, version)
        return Path(unquote(urlparse(uri).path)) / "model.lgb"


@pytest.fixture
def registry(tmp_path: Path, template_db: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    import mlflow
    from mlflow import MlflowClient

    db = tmp_path / "mlflow.db"
    shutil.copy(template_db, db)
    uri = f"sqlite:///{db}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    # training.registry.connect sets mlflow's process-wide URIs, which win over the variable:
    # a training test run earlier in this process would otherwise receive these registrations.
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment = MlflowClient(tracking_uri=uri).create_experiment(
        "tests", artifact_location=(tmp_path / "artifacts").as_uri()
    )
    # A unique model name keeps the process-wide Prometheus series of tests apart.
    return Registry(uri, tmp_path, db, experiment, f"nbc-{uuid4().hex[:8]}")


@pytest.fixture(scope="session")
def saved_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One MLflow-format model directory (20 rounds, so the fast path has real trees to walk)."""
    path = tmp_path_factory.mktemp("saved") / "model"
    return builders.save_local(builders.train_booster(rounds=20), path)


@pytest.fixture
def local_model(saved_model: Path, tmp_path: Path) -> LocalModel:
    """A private copy of `saved_model`, read as the registry client would."""
    path = tmp_path / "model"
    shutil.copytree(saved_model, path)
    return read_local_model(path, "nbc", "1")
