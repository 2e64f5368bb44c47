"""Rewrite an experiment set on disk (comments kept), checked before it replaces anything.

`training experiments conclude` adds a `conclusion:` block to one experiment and gives the set
a new version in every file (a set's files must agree on it). The new files are written
next to the old ones, the whole set is compiled and self-tested by the service's own code, and
only then are the files renamed into place; a set that would not validate is never written.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from decision.conditions.errors import SpecFileError
from decision.conditions.loader import spec_files
from decision.tiers.experiments.casefile import compile_and_test


class ExperimentFileError(ValueError):
    """The experiment cannot be found or the result would not validate (the message says why)."""


def _yaml() -> YAML:
    yaml = YAML()  # round-trip mode: comments, key order and quoting survive
    yaml.preserve_quotes = True
    yaml.width = 100
    return yaml


def add_conclusion(path: Path, experiment_id: str, conclusion: Mapping[str, object], version: str) -> Path:
    """Write `conclusion` into `experiment_id` and `version` into every file of the set at `path`;
    returns the file that holds the experiment."""
    files = spec_files(path) if path.exists() else []
    if not files:
        raise ExperimentFileError(f"{path}: no experiment files")
    yaml = _yaml()
    documents: dict[Path, Any] = {file: yaml.load(file.read_text(encoding="utf-8")) for file in files}
    holder = None
    for file, document in documents.items():
        for experiment in document.get("experiments") or []:
            if experiment.get("id") == experiment_id:
                experiment["conclusion"] = dict(conclusion)
                holder = file
        document["version"] = version
    if holder is None:
        raise ExperimentFileError(f"{path}: no experiment {experiment_id!r} in {', '.join(f.name for f in files)}")
    staged = {file: file.with_name(f".{file.name}.concluding") for file in files}
    try:
        for file, document in documents.items():
            buffer = io.StringIO()
            yaml.dump(document, buffer)
            staged[file].write_text(buffer.getvalue(), encoding="utf-8")
        _validate_staged(path, staged)
        for file, tmp in staged.items():
            os.replace(tmp, file)
    finally:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
    return holder


def _validate_staged(path: Path, staged: Mapping[Path, Path]) -> None:
    """Compile and self-test the staged set in a scratch folder, exactly as the service would."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        for file, tmp in staged.items():
            (Path(scratch) / file.name).write_bytes(tmp.read_bytes())
        try:
            compile_and_test(Path(scratch))
        except SpecFileError as exc:
            raise ExperimentFileError(f"{path}: the concluded set would not validate, nothing written:\n{exc}") from exc
