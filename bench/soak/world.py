"""The soak's world in a temp folder: a registry with two servable versions, the rules, the data.

Everything the server reads or writes lives under one folder, so the soak never touches the
checkout's var/ and leaves nothing behind.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODEL_NAME = "next_best_content"
ALIAS = "champion"


@dataclass(frozen=True)
class World:
    """Paths of one soak's world; `versions` are the two registered versions the alias moves between."""

    root: Path
    tracking_uri: str
    catalog: Path
    profiles: Path
    rules: Path
    experiments: Path
    versions: tuple[str, str]

    @property
    def decision_log(self) -> Path:
        return self.root / "decisions.jsonl"

    @property
    def outcome_log(self) -> Path:
        return self.root / "outcomes.jsonl"


def build_world(root: Path, events: int, seed: int) -> World:
    """Bootstrap a champion on `events` synthetic events, register its artifacts again as a
    second version, and copy the repository's rules.

    The second version holds the same bytes: a swap still downloads, load-checks, warms and
    publishes a new model object, which is what can leak; training a second model would only
    make the soak slower to set up.
    """
    from mlflow import MlflowClient

    from training.workflow import run_bootstrap

    root.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    data, profiles = root / "data", root / "profiles.jsonl"
    run_bootstrap(uri, MODEL_NAME, data, profiles, events, seed, lambda _line: None)
    client = MlflowClient(tracking_uri=uri)
    first = client.get_model_version_by_alias(MODEL_NAME, ALIAS)
    second = client.create_model_version(MODEL_NAME, source=str(first.source), run_id=first.run_id)
    rules = root / "rules"
    rules.mkdir(exist_ok=True)
    for path in sorted((REPO / "rules").glob("*.yaml")):
        shutil.copy(path, rules)
    experiments = root / "experiments"  # none: the soak is about rules and models
    experiments.mkdir(exist_ok=True)
    return World(
        root, uri, data / "catalog.json", profiles, rules, experiments, (str(first.version), str(second.version))
    )
