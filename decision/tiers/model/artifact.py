"""A downloaded model version on local disk, read without MLflow.

The training side logs `metadata={"feature_names", "feature_set_version",
"feature_spec_version", "formulation": "ranker"}` into the MLmodel file and the feature spec
as `extra_files/feature_spec.json` beside the booster: the booster scores one row per
candidate, built from that spec.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from decision.sources.feature_spec import SPEC_FILE, FeatureSpec, FeatureSpecError
from decision.tiers.model.errors import ModelLoadError

MODEL_FILE = "model.lgb"


@dataclass(frozen=True, slots=True)
class ModelRef:
    """Where a registered model version lives, as the registry reports it."""

    name: str
    version: str
    run_id: str
    source: str


@dataclass(frozen=True, slots=True)
class LocalModel:
    """A model version on disk with everything needed to check it before it serves.

    `sha256` is taken at download time; the in-process load refuses a file whose
    bytes changed after the load check checked them.
    """

    name: str
    version: str
    path: Path
    feature_names: tuple[str, ...]
    feature_set_version: str
    spec: FeatureSpec
    input_example: np.ndarray | None
    sha256: str

    @property
    def model_file(self) -> Path:
        return self.path / MODEL_FILE

    def example_rows(self) -> np.ndarray:
        """The input example, or one all-zero row of the right width."""
        if self.input_example is not None:
            return self.input_example
        return np.zeros((1, len(self.feature_names)), dtype=np.float64)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_local_model(path: Path, name: str, version: str) -> LocalModel:
    """Parse MLmodel metadata and the input example in `path`; ModelLoadError says what is wrong."""
    where = f"model {name} v{version}"
    try:
        mlmodel = yaml.safe_load((path / "MLmodel").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ModelLoadError(f"{where}: cannot read MLmodel ({type(exc).__name__})") from exc
    if not isinstance(mlmodel, dict):
        raise ModelLoadError(f"{where}: MLmodel is not a mapping")
    meta = mlmodel.get("metadata") or {}
    feature_names = _string_list(meta, "feature_names", where)
    feature_set_version = meta.get("feature_set_version")
    if not isinstance(feature_set_version, str) or not feature_set_version:
        raise ModelLoadError(f"{where}: MLmodel metadata.feature_set_version missing")
    if meta.get("formulation") != "ranker":
        raise ModelLoadError(
            f"{where}: MLmodel metadata.formulation is {meta.get('formulation')!r}, not 'ranker' "
            "(a model from before the feature spec): retrain it"
        )
    try:
        spec = FeatureSpec.load(path / SPEC_FILE)
    except FeatureSpecError as exc:
        raise ModelLoadError(f"{where}: {exc}") from None
    if spec.version != meta.get("feature_spec_version"):
        raise ModelLoadError(
            f"{where}: {SPEC_FILE} is version {spec.version}, the metadata names {meta.get('feature_spec_version')!r}"
        )
    if not (path / MODEL_FILE).is_file():
        raise ModelLoadError(f"{where}: artifact {MODEL_FILE} missing")
    example = _input_example(path, mlmodel.get("saved_input_example_info"), len(feature_names))
    return LocalModel(
        name=name,
        version=version,
        path=path,
        feature_names=tuple(feature_names),
        feature_set_version=feature_set_version,
        spec=spec,
        input_example=example,
        sha256=file_sha256(path / MODEL_FILE),
    )


def _string_list(meta: Any, key: str, where: str) -> list[str]:
    value = meta.get(key) if isinstance(meta, dict) else None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ModelLoadError(f"{where}: MLmodel metadata.{key} must be a non-empty list of strings")
    return value


def _input_example(path: Path, info: Any, width: int) -> np.ndarray | None:
    """Rows of the logged input example (ndarray or split-orient dataframe JSON), if usable.

    An unusable example is ignored rather than fatal: the load check then predicts a zero row.
    """
    if not isinstance(info, dict) or not isinstance(info.get("artifact_path"), str):
        return None
    try:
        raw = json.loads((path / info["artifact_path"]).read_text(encoding="utf-8"))
        data = raw.get("data", raw.get("inputs")) if isinstance(raw, dict) else raw
        rows = np.asarray(data, dtype=np.float64)
    except (OSError, ValueError, TypeError):
        return None
    if rows.ndim == 1:
        rows = rows.reshape(1, -1)
    if rows.ndim != 2 or rows.shape[0] == 0 or rows.shape[1] != width:
        return None
    return rows
