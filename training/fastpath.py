"""A quick, MLflow-free look at a local SQLite registry, so an idempotent `bootstrap`
returns in a fraction of a second instead of paying MLflow's import and startup.

It only ever answers "yes, this version": anything unexpected (not SQLite, no file, a
schema it does not recognise) returns None and the caller asks MLflow properly.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def sqlite_alias(tracking_uri: str, model_name: str, alias: str, feature_set_version: str | None = None) -> str | None:
    """The version `alias` points at in a local SQLite registry, or None if unsure.

    With `feature_set_version`, only a version tagged with it: one this code can serve.
    """
    if not tracking_uri.startswith("sqlite:///"):
        return None
    path = Path(tracking_uri.removeprefix("sqlite:///"))
    if not path.is_file():
        return None
    query, args = "SELECT a.version FROM registered_model_aliases a", [model_name, alias]
    if feature_set_version is not None:
        query += (
            " JOIN model_version_tags t ON t.name = a.name AND t.version = a.version"
            " AND t.key = 'feature_set_version' AND t.value = ?"
        )
        args.insert(0, feature_set_version)
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2) as db:
            row = db.execute(query + " WHERE a.name = ? AND a.alias = ?", args).fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])


def service_paths(tracking_uri: str, model_name: str, profiles: Path, catalog: Path) -> str:
    """What the service reads, as `bootstrap` prints it."""
    return (
        f"\nthe service reads:\n  model     models:/{model_name}@champion ({tracking_uri})\n"
        f"  profiles  {profiles}\n  catalog   {catalog}"
    )
