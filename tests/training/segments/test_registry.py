"""The segment model in MLflow: a run, a registered version, an alias, and reading it back."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest

from decision.sources.segments import SegmentModel
from training.defaults import RegistryError
from training.segments.discovery import SegmentDiscovery
from training.segments.registry import centroid_frame, load_registered, log_segments


@pytest.fixture(scope="module")
def uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow')}/mlflow.db"


def test_a_registered_version_is_followed_by_its_alias(discovery: SegmentDiscovery, uri: str) -> None:
    model = discovery.model
    registered = log_segments(uri, model, {"k": 3}, {"silhouette": 0.4}, {"segments.txt": "table"}, "seg_test")
    assert registered.version == "1"
    assert load_registered(uri, "seg_test", "champion") == model
    run = mlflow.MlflowClient(tracking_uri=uri).get_run(registered.run_id)
    assert run.data.tags["segments_fingerprint"] == model.fingerprint()
    assert run.data.metrics["silhouette"] == pytest.approx(0.4)


def test_the_pyfunc_labels_each_centroid_with_its_segment(discovery: SegmentDiscovery, uri: str) -> None:
    log_segments(uri, discovery.model, {}, {}, {}, "seg_pyfunc", alias="candidate")
    labels = mlflow.pyfunc.load_model("models:/seg_pyfunc@candidate").predict(centroid_frame(discovery.model))
    assert list(labels) == list(discovery.model.names)


def test_without_registration_no_version_and_no_alias(discovery: SegmentDiscovery, uri: str) -> None:
    registered = log_segments(uri, discovery.model, {}, {}, {}, "seg_unregistered", register=False)
    assert registered.version is None
    with pytest.raises(RegistryError, match=r"no seg_unregistered@champion in sqlite:///.*run `training segments`"):
        load_registered(uri, "seg_unregistered")


def test_the_json_file_is_the_run_artifact_the_service_reads(
    discovery: SegmentDiscovery, uri: str, tmp_path: Path
) -> None:
    registered = log_segments(uri, discovery.model, {}, {}, {}, "seg_artifact", register=False)
    path = mlflow.artifacts.download_artifacts(
        run_id=registered.run_id, artifact_path="segments.json", dst_path=str(tmp_path), tracking_uri=uri
    )
    assert SegmentModel.load(Path(path)) == discovery.model
