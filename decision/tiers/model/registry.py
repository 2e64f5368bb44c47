"""The only serving module that talks to MLflow: resolve name@alias, download a version.

Every call runs under a Watchdog, so a locked SQLite file, a dead tracking server
or a frozen Postgres costs the caller at most `timeout_s`, never minutes. Errors
become RegistryError with the URI's credentials removed.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import tempfile
from concurrent.futures import Executor
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from decision.tiers.model.artifact import LocalModel, ModelRef, read_local_model
from decision.tiers.model.errors import RegistryError
from decision.tiers.model.watchdog import Watchdog

# MLflow's defaults retry a refused or 503-ing server for ~4 minutes.
_FAST_FAIL_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "2",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_SECRET_PARAM = re.compile(r"(?i)((?:password|passwd|pwd|token|secret)=)[^&\s]+")


def redact(text: str) -> str:
    """Remove `user:pass@` and password/token query values from URIs inside `text`."""
    return _SECRET_PARAM.sub(r"\1***", _USERINFO.sub("***@", text))


class RegistryClient:
    """Bounded, credential-safe access to one MLflow model registry."""

    def __init__(self, tracking_uri: str, timeout_s: float) -> None:
        for key, value in _FAST_FAIL_ENV.items():
            os.environ.setdefault(key, value)
        self._uri = tracking_uri
        self._watchdog = Watchdog(timeout_s)
        self._client: Any = None  # built lazily: creating it may itself block

    @property
    def safe_uri(self) -> str:
        return redact(self._uri)

    def resolve(self, name: str, alias: str) -> ModelRef | None:
        """The version `name@alias` points at; None when the model or the alias does not exist."""
        _import_mlflow()
        return self._watchdog.call(f"resolve {name}@{alias}", lambda: self._resolve(name, alias))

    def download(self, ref: ModelRef, dest_dir: Path) -> LocalModel:
        """Copy the version's artifacts into a new directory under `dest_dir` and read them."""
        _import_mlflow()
        return self._watchdog.call(f"download {ref.name} v{ref.version}", lambda: self._download(ref, dest_dir))

    def close(self) -> None:
        """Refuse further calls and stop waiting for the one in flight (it runs on in the background)."""
        self._watchdog.close()

    def _mlflow(self) -> Any:
        if self._client is None:
            self._client = _import_mlflow().MlflowClient(tracking_uri=self._uri, registry_uri=self._uri)
        return self._client

    def _resolve(self, name: str, alias: str) -> ModelRef | None:
        from mlflow.exceptions import MlflowException  # already imported: a dict lookup

        try:
            mv = self._mlflow().get_model_version_by_alias(name, alias)
        except MlflowException as exc:
            if _is_not_found(exc):
                return None
            raise self._error(f"resolve {name}@{alias}", exc) from None
        except Exception as exc:
            raise self._error(f"resolve {name}@{alias}", exc) from None
        return ModelRef(name, str(mv.version), mv.run_id or "", str(mv.source))

    def _download(self, ref: ModelRef, dest_dir: Path) -> LocalModel:
        what = f"download {ref.name} v{ref.version}"
        try:
            dest_dir.mkdir(parents=True, exist_ok=True)
            target = Path(tempfile.mkdtemp(prefix=f"{ref.name}-v{ref.version}-", dir=dest_dir))
        except OSError as exc:
            raise RegistryError(f"{what}: cannot write to {dest_dir} ({exc.strerror})") from None
        try:
            uri = self._mlflow().get_model_version_download_uri(ref.name, ref.version)
            local = _download_all(uri, target, self._uri)
        except Exception as exc:
            shutil.rmtree(target, ignore_errors=True)
            raise self._error(what, exc) from None
        try:
            return read_local_model(Path(local), ref.name, ref.version)
        except Exception:
            shutil.rmtree(target, ignore_errors=True)
            raise

    def _error(self, what: str, exc: BaseException) -> RegistryError:
        lines = str(exc).strip().splitlines()
        first = redact(lines[0])[:300] if lines else ""
        return RegistryError(f"{what} at {self.safe_uri}: {type(exc).__name__}: {first}")


def _download_all(uri: str, target: Path, tracking_uri: str) -> str:
    """Every artifact under `uri` into `target`; returns the local path.

    MLflow gives each artifact repository a thread pool it never shuts down, and the
    repository sits in a reference cycle. In a busy server it reaches the collector's oldest
    generation before the download ends, the heap is frozen after the swap
    (decision/reload/heap.py), and its threads would live on: 3 per model swap. So the
    repository is ours to close.
    """
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    # As mlflow.artifacts.download_artifacts does: the repository at the parent, the last part
    # as the path, so a missing version folder is an error rather than an empty download.
    parsed = urlparse(uri)
    parent, name = posixpath.split(parsed.path.rstrip("/"))
    repository: Any = get_artifact_repository(parsed._replace(path=parent).geturl(), tracking_uri=tracking_uri)
    try:
        return str(repository.download_artifacts(name, dst_path=str(target)))
    finally:
        pool = getattr(repository, "thread_pool", None)
        if isinstance(pool, Executor):
            pool.shutdown(wait=False)


def _import_mlflow() -> Any:
    """MLflow, imported on first use in the caller's thread: the import takes seconds, which
    must not count against a registry call's deadline, and a process without a registry
    never pays for it."""
    import mlflow
    import mlflow.exceptions
    import mlflow.store.artifact.artifact_repository_registry

    return mlflow


def _is_not_found(exc: BaseException) -> bool:
    """MLflow reports a missing model as RESOURCE_DOES_NOT_EXIST but a missing alias as
    INVALID_PARAMETER_VALUE "Registered model alias … not found." (pinned by a test)."""
    code = getattr(exc, "error_code", "")
    message = str(exc)
    if code == "RESOURCE_DOES_NOT_EXIST":
        return True
    return code == "INVALID_PARAMETER_VALUE" and "alias" in message and "not found" in message
