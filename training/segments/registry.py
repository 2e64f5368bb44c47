"""MLflow for segment models: one run (parameters, metrics, model file, report) and a registered model.

The only segments module that imports mlflow; the store is chosen as for the ranking model
(training.defaults.TRACKING_URI, or any tracking URI). The segment model is registered as an
`mlflow.pyfunc` model whose one artifact is the model JSON, so the registry versions it and
an alias (default `champion`) can follow it. The service never unpickles the wrapper: it
downloads the version and reads `artifacts/segments.json` with SegmentModel.load. Offline,
`mlflow.pyfunc.load_model(uri).predict(frame)` labels a frame of behaviour features.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.pyfunc.model import PythonModel

from decision.sources.segments import SegmentModel
from training.defaults import RegistryError
from training.registry import Registered, connect, experiment, record

MODEL_NAME = "segments"
ALIAS = "champion"
ARTIFACT = "segments"  # the pyfunc artifact key; the file is artifacts/segments.json in the model
FILE_NAME = "segments.json"


class SegmentPyfunc(PythonModel):
    """Nearest-centroid labels for rows of raw behaviour features (columns: the model's features)."""

    def load_context(self, context: Any) -> None:
        self.model = SegmentModel.load(Path(context.artifacts[ARTIFACT]))

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> list[str]:
        rows = model_input[list(self.model.feature_names)].to_numpy(dtype=np.float64).tolist()
        return [self.model.label(row) for row in rows]


def log_segments(
    tracking_uri: str,
    model: SegmentModel,
    params: Mapping[str, object],
    metrics: Mapping[str, float],
    texts: Mapping[str, str],
    model_name: str = MODEL_NAME,
    register: bool = True,
    alias: str | None = ALIAS,
) -> Registered:
    """One run in the experiment named after the model; `texts` are logged as files (report, tables)."""
    connect(tracking_uri)
    with tempfile.TemporaryDirectory() as tmp:
        path = model.save(Path(tmp) / FILE_NAME)
        with mlflow.start_run(experiment_id=experiment(tracking_uri, model_name)) as run:
            mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
            mlflow.log_metrics({k: v for k, v in metrics.items() if np.isfinite(v)})
            mlflow.set_tags({"segments_fingerprint": model.fingerprint(), "as_of": model.as_of})
            mlflow.log_artifact(str(path))
            for name, text in texts.items():
                mlflow.log_text(text, name)
            example = centroid_frame(model)
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=SegmentPyfunc(),
                artifacts={ARTIFACT: str(path)},
                signature=infer_signature(example, list(model.names)),
                input_example=example,
                registered_model_name=model_name if register else None,
                # explicit requirements: inferring them spawns a slow subprocess
                pip_requirements=[f"mlflow=={mlflow.__version__}", f"numpy=={np.__version__}"],
                metadata={"fingerprint": model.fingerprint(), "segments": list(model.names)},
            )
    version = str(info.registered_model_version) if register else None
    if version is not None:
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        tags = {"segments_fingerprint": model.fingerprint(), "as_of": model.as_of}
        record(client, model_name, version, alias, tags)
    return Registered(run.info.run_id, version)


def centroid_frame(model: SegmentModel) -> pd.DataFrame:
    """Each segment's centroid in raw feature units: an input example made of no user's data."""
    raw = np.array(model.centroids) * np.array(model.scales) + np.array(model.means)
    logged = np.array(model.log1p)
    raw[:, logged] = np.expm1(raw[:, logged])
    return pd.DataFrame(raw, columns=list(model.feature_names))


def load_registered(tracking_uri: str, model_name: str = MODEL_NAME, alias: str = ALIAS) -> SegmentModel:
    """The model `name@alias` points at, read from its JSON as the service reads it."""
    connect(tracking_uri)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            root = mlflow.artifacts.download_artifacts(
                f"models:/{model_name}@{alias}", dst_path=tmp, tracking_uri=tracking_uri
            )
        except MlflowException as exc:
            raise RegistryError(f"no {model_name}@{alias} in {tracking_uri}; run `training segments` first") from exc
        return SegmentModel.load(Path(root) / "artifacts" / FILE_NAME)
