"""The model every contender serves: the registered champion, or a stand-in trained here.

All contenders must rank with the same registered model, so the harness resolves
`models:/<name>@<alias>` once, downloads its artifacts (MLServer wants the raw `model.lgb`)
and derives the single-row request bodies from the model's own input example.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

STANDIN_CLASSES = 40
STANDIN_FEATURES = 40
STANDIN_ROUNDS = 10  # 10 rounds x 40 classes = 400 trees, the size of the real champion


@dataclass(frozen=True)
class ModelSource:
    """A resolved registered model and what the peers need to serve and call it."""

    tracking_uri: str
    name: str
    alias: str
    version: str
    artifacts: Path
    booster_file: Path | None
    row: list[float]
    mlflow_payload: dict[str, object]
    standin: bool

    @property
    def uri(self) -> str:
        return f"models:/{self.name}@{self.alias}"


def resolve(tracking_uri: str, name: str, alias: str, workdir: Path, *, standin: bool) -> ModelSource:
    """Download `name@alias`; with `standin`, first register a random model if it is absent.

    Artifacts of a stand-in go beside `workdir` (the default ./mlruns would land in the cwd).
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    mlflow.set_tracking_uri(tracking_uri)
    client = mlflow.MlflowClient()
    try:
        version = client.get_model_version_by_alias(name, alias)
        trained_here = False
    except MlflowException:
        if not standin:
            raise
        logger.warning("no %s@%s in %s: training a stand-in model", name, alias, tracking_uri)
        version = _train_standin(client, name, alias, workdir.parent / "standin-artifacts")
        trained_here = True
    artifacts = Path(
        mlflow.artifacts.download_artifacts(
            f"models:/{name}/{version.version}", dst_path=str(workdir / f"model-v{version.version}")
        )
    )
    booster = artifacts / "model.lgb"
    payload = _single_row_payload(artifacts)
    split = payload["dataframe_split"]
    assert isinstance(split, dict)
    row = [float(value) for value in split["data"][0]]
    return ModelSource(
        tracking_uri,
        name,
        alias,
        str(version.version),
        artifacts,
        booster if booster.is_file() else None,
        row,
        payload,
        trained_here,
    )


def _single_row_payload(artifacts: Path) -> dict[str, object]:
    """The first row of the model's serving input example, in `dataframe_split` form."""
    example = artifacts / "serving_input_example.json"
    if not example.is_file():
        raise FileNotFoundError(f"{example}: log the model with an input_example")
    payload = json.loads(example.read_text())
    split = payload.get("dataframe_split")
    if not isinstance(split, dict) or not split.get("data"):
        raise ValueError(f"{example}: expected a dataframe_split input example")
    split["data"] = split["data"][:1]
    split.pop("index", None)
    return {"dataframe_split": split}


def _train_standin(client: Any, name: str, alias: str, artifacts: Path) -> Any:
    """A 400-tree, 40-class LightGBM booster on random data, registered as `name@alias`."""
    import lightgbm as lgb
    import mlflow
    import numpy as np
    import pandas as pd
    from mlflow.models import infer_signature

    rng = np.random.default_rng(7)
    columns = [f"f{i:02d}" for i in range(STANDIN_FEATURES)]
    features = pd.DataFrame(rng.random((4000, STANDIN_FEATURES)), columns=columns)
    labels = rng.integers(0, STANDIN_CLASSES, 4000)
    params = {"objective": "multiclass", "num_class": STANDIN_CLASSES, "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(features, labels), num_boost_round=STANDIN_ROUNDS)
    example = features.head(2)
    os.environ.setdefault("MLFLOW_ENABLE_LOGGED_MODEL_CREATION", "true")
    experiment = client.get_experiment_by_name("bench-standin")
    experiment_id = (
        experiment.experiment_id
        if experiment
        else client.create_experiment("bench-standin", artifact_location=artifacts.resolve().as_uri())
    )
    with (
        warnings.catch_warnings(),
        mlflow.start_run(experiment_id=experiment_id, run_name="standin"),
    ):
        warnings.simplefilter("ignore")
        info = mlflow.lightgbm.log_model(
            booster,
            name="model",
            registered_model_name=name,
            input_example=example,
            signature=infer_signature(example, booster.predict(example)),
        )
    version = info.registered_model_version
    client.set_registered_model_alias(name, alias, str(version))
    return client.get_model_version_by_alias(name, alias)
