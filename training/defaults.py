"""Defaults shared by the commands; a light module so `training --help` imports nothing heavy."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decision.privacy import Pseudonymizer

TRACKING_URI = "sqlite:///var/mlflow/mlflow.db"
MODEL_NAME = "next_best_content"
DATA_DIR = Path("var/data")
PROFILES = Path("var/profiles.jsonl")
#: The service's default key file: training must pseudonymize users exactly as serving does.
USER_KEY_PATH = Path("var/user.key")
#: Users the service was told to forget (their user keys): training leaves them out.
FORGOTTEN_PATH = Path("var/forgotten.keys")
EVENTS = 200_000
SEED = 7
ROUNDS = 60


class RegistryError(RuntimeError):
    """The registry cannot do what was asked; the message says what to do next."""


def pseudonymizer(key_path: Path = USER_KEY_PATH) -> Pseudonymizer:
    """The service's pseudonymizer: DECISION_USER_KEY if set, else the key file (created if absent)."""
    from decision.privacy import load_pseudonymizer

    return load_pseudonymizer(key_path, os.environ.get("DECISION_USER_KEY"))
