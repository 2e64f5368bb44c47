"""Defaults shared by the commands; a light module so `training --help` imports nothing heavy."""

from __future__ import annotations

from pathlib import Path

TRACKING_URI = "sqlite:///var/mlflow/mlflow.db"
MODEL_NAME = "next_best_content"
DATA_DIR = Path("var/data")
PROFILES = Path("var/profiles.jsonl")
EVENTS = 200_000
SEED = 7
ROUNDS = 200


class RegistryError(RuntimeError):
    """The registry cannot do what was asked; the message says what to do next."""
