"""Reading training inputs: the event log (CSV/Parquet), the users table, the catalog.

A data directory holds `events.parquet` or `events.csv`, `catalog.json` (or .csv), and
optionally `users.csv`/`users.parquet` and, for synthetic data, `ground_truth.parquet`.
Further events whose user ids are already user keys (served traffic,
training/served/events.py) come as `KeyedEvents` and are appended to the log.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from decision.sources.catalog import Catalog
from training.schema import BadRowPolicy, EventLogError, ValidationReport, validate

log = logging.getLogger(__name__)

USER_COLUMNS = ("user_id", "region", "device", "segment")


@dataclass(frozen=True)
class DataPaths:
    events: Path
    catalog: Path
    users: Path | None = None
    ground_truth: Path | None = None

    @classmethod
    def in_dir(cls, root: Path) -> DataPaths:
        """The standard file names inside a data directory; only events and catalog required."""
        events = _first(root, "events", (".parquet", ".csv"))
        catalog = _first(root, "catalog", (".json", ".csv"))
        if events is None or catalog is None:
            what = "events.parquet|csv" if events is None else "catalog.json|csv"
            raise EventLogError(str(root), f"no {what} here; run `training generate --out {root}` or pass the files")
        return cls(
            events,
            catalog,
            _first(root, "users", (".parquet", ".csv")),
            _first(root, "ground_truth", (".parquet",)),
        )

    def all(self) -> list[Path]:
        return [p for p in (self.events, self.catalog, self.users, self.ground_truth) if p]


@dataclass(frozen=True)
class KeyedEvents:
    """Event rows (event-log columns) whose `user_id` already is a user key: served traffic, logged by key.

    `load` validates them like the event log but does not pseudonymize them: the key of a key
    would make them strangers to their own users' history. `paths` are the files they came
    from, for the data fingerprint.
    """

    events: pd.DataFrame
    source: str
    paths: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Inputs:
    events: pd.DataFrame
    catalog: Catalog
    users: pd.DataFrame | None
    ground_truth: pd.DataFrame | None
    report: ValidationReport
    fingerprint: str
    keyed_events: int = 0  # rows appended from KeyedEvents sources


def load(
    paths: DataPaths,
    pseudonymize: Callable[[str], str],
    policy: BadRowPolicy = BadRowPolicy.FAIL,
    keyed: Sequence[KeyedEvents] = (),
    forgotten: Collection[str] = (),
) -> Inputs:
    """Read and validate everything; raises EventLogError / CatalogError with locations.

    User ids become user keys (decision.privacy) as they are read, in every table, so nothing
    training writes (profiles, models, reports) can hold a raw id, and served traffic (logged
    by user key) joins the same users. `keyed` sources are appended as they are. Users whose
    key is in `forgotten` (the service's Forget) are left out entirely.
    """
    catalog = Catalog.load(paths.catalog)
    events, report = validate(read_table(paths.events), str(paths.events), policy)
    events["user_id"] = pseudonymized(events["user_id"], pseudonymize)
    events, appended = _append_keyed(events, keyed, catalog, policy)
    if forgotten:
        kept = ~events["user_id"].isin(set(forgotten))
        if not kept.all():
            log.info("left out %s events of %s forgotten users", int((~kept).sum()), len(set(forgotten)))
            events = events[kept].reset_index(drop=True)
    users = load_users(paths.users) if paths.users else None
    if users is not None:
        users.index = pseudonymized(users.index.to_series(), pseudonymize).to_numpy()
        users.index.name = "user_id"
        events = _fill_context(events, users)
    truth = pd.read_parquet(paths.ground_truth) if paths.ground_truth else None
    if truth is not None:
        truth["user_id"] = pseudonymized(truth["user_id"].astype(str), pseudonymize)
    if report.rows_without_consent:
        log.info("left out %s event rows without personalization consent", report.rows_without_consent)
    if report.rows_dropped:
        log.warning(
            "dropped %s of %s event rows: %s",
            report.rows_dropped,
            report.rows_read,
            report.by_column,
        )
    sources = [*paths.all(), *(path for source in keyed for path in source.paths)]
    return Inputs(events, catalog, users, truth, report, fingerprint(sources), appended)


def _append_keyed(
    events: pd.DataFrame, keyed: Sequence[KeyedEvents], catalog: Catalog, policy: BadRowPolicy
) -> tuple[pd.DataFrame, int]:
    """The log with each keyed source's validated rows; content without a category takes the catalog's."""
    categories = {item.content_id: item.category for item in catalog.items}
    frames = [events]
    for source in keyed:
        if source.events.empty:
            log.info("%s: no events to add", source.source)
            continue
        rows, report = validate(source.events, source.source, policy)
        if report.rows_dropped:
            log.warning(
                "%s: dropped %s of %s rows: %s", source.source, report.rows_dropped, report.rows_read, report.by_column
            )
        rows["category"] = rows["category"].fillna(rows["content_id"].map(categories))
        frames.append(rows)
    if len(frames) == 1:
        return events, 0
    merged = pd.concat(frames, ignore_index=True).sort_values(["user_id", "timestamp"], kind="stable")
    return merged.reset_index(drop=True), len(merged) - len(events)


def read_table(path: Path) -> pd.DataFrame:
    """Raw strings from CSV (so validation sees what was written), typed columns from Parquet."""
    if not path.exists():
        raise EventLogError(str(path), "file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        if suffix == ".parquet":
            return pd.read_parquet(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise EventLogError(str(path), f"cannot parse {suffix[1:]} file: {exc}") from exc
    raise EventLogError(str(path), f"unsupported file type {suffix!r}; use .csv or .parquet")


def load_users(path: Path) -> pd.DataFrame:
    """The users side table, indexed by user_id; columns other than USER_COLUMNS are ignored."""
    raw = read_table(path)
    if "user_id" not in raw.columns:
        raise EventLogError(str(path), "missing required column 'user_id'")
    users = raw[[c for c in USER_COLUMNS if c in raw.columns]].astype("string")
    blank = users["user_id"].isna() | (users["user_id"].str.strip() == "")
    if blank.any():
        row = int(blank.to_numpy().nonzero()[0][0]) + 1
        raise EventLogError(str(path), f"row {row}, column 'user_id': empty, expected an id")
    dup = users["user_id"].duplicated()
    if dup.any():
        row = int(dup.to_numpy().nonzero()[0][0]) + 1
        raise EventLogError(str(path), f"row {row}, column 'user_id': repeats an earlier row")
    return users.set_index("user_id")


def pseudonymized(user_ids: pd.Series, pseudonymize: Callable[[str], str]) -> pd.Series:
    """Each id replaced by its user key (one HMAC per distinct id)."""
    keys = {user_id: pseudonymize(str(user_id)) for user_id in user_ids.unique()}
    return user_ids.map(keys).astype("string")


def fingerprint(paths: list[Path]) -> str:
    """sha256 over the input files' names and bytes: the same data gives the same print."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:16]


def _fill_context(events: pd.DataFrame, users: pd.DataFrame) -> pd.DataFrame:
    """Events without region/device take the user's from the users table."""
    for column in ("region", "device"):
        if column in users.columns:
            events[column] = events[column].fillna(events["user_id"].map(users[column]))
    return events


def _first(root: Path, stem: str, suffixes: tuple[str, ...]) -> Path | None:
    return next((root / f"{stem}{s}" for s in suffixes if (root / f"{stem}{s}").exists()), None)
