"""`training segments`: read the log, discover, print, write the model and the page, log to MLflow.

cli.py imports this lazily (it pulls in scikit-learn and, when logging, MLflow).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from decision.sources.forgotten import read_keys
from training import defaults
from training.io import load_users, pseudonymized, read_table
from training.schema import BadRowPolicy, EventLogError, validate
from training.segments.clustering import Scaling
from training.segments.discovery import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_FEATURES,
    DEFAULT_K_RANGE,
    DEFAULT_MIN_SIZE,
    SegmentDiscovery,
    discover,
)
from training.segments.page import page
from training.segments.report import segment_frame, summary

Echo = Callable[[str], None]

MODEL_OUT = Path("var/segments.json")
REPORT_OUT = Path("var/reports/segments.html")


@dataclass(frozen=True)
class SegmentsConfig:
    data_dir: Path = defaults.DATA_DIR
    events: Path | None = None  # default: events.parquet|csv in data_dir
    users: Path | None = None  # default: users.parquet|csv in data_dir, if there
    as_of: datetime | None = None
    k_range: Sequence[int] = DEFAULT_K_RANGE
    min_size: int = DEFAULT_MIN_SIZE
    seed: int = defaults.SEED
    bootstrap: int = DEFAULT_BOOTSTRAP
    features: Sequence[str] = field(default=DEFAULT_FEATURES)
    scaling: Scaling = Scaling.WITHIN
    bad_rows: BadRowPolicy = BadRowPolicy.FAIL
    model_out: Path = MODEL_OUT
    report_out: Path = REPORT_OUT
    tracking_uri: str | None = defaults.TRACKING_URI  # None: do not log to MLflow
    model_name: str = "segments"
    register: bool = True
    alias: str | None = "champion"
    progress: bool = True
    user_key_path: Path = defaults.USER_KEY_PATH
    forgotten_path: Path = defaults.FORGOTTEN_PATH


def run_segments(cfg: SegmentsConfig, echo: Echo) -> SegmentDiscovery:
    started = time.monotonic()
    events_path = cfg.events or _first(cfg.data_dir, "events")
    if events_path is None:
        raise EventLogError(str(cfg.data_dir), "no events.parquet|csv here; pass --events or --data")
    events, checked = validate(read_table(events_path), str(events_path), cfg.bad_rows)
    # As training does: users as user keys from here on, forgotten users left out (consent is
    # honoured by `validate`), so nothing this writes can name or keep a user it must not.
    pseudonymize = defaults.pseudonymizer(cfg.user_key_path)
    events["user_id"] = pseudonymized(events["user_id"], pseudonymize)
    events = events[~events["user_id"].isin(read_keys(cfg.forgotten_path))].reset_index(drop=True)
    dropped, no_consent = checked.rows_dropped, checked.rows_without_consent
    echo(f"events: {checked.rows_read} read, {dropped} dropped, {no_consent} without consent")
    users_path = cfg.users or _first(cfg.data_dir, "users")
    users = load_users(users_path) if users_path is not None else None
    if users is not None:
        users.index = pseudonymized(users.index.to_series(), pseudonymize).to_numpy()
        users.index.name = "user_id"
    found = discover(
        events,
        users,
        as_of=cfg.as_of,
        k_range=cfg.k_range,
        min_size=cfg.min_size,
        seed=cfg.seed,
        features=cfg.features,
        bootstrap=cfg.bootstrap,
        progress=cfg.progress,
        scaling=cfg.scaling,
    )
    text = summary(found)
    echo(text + "\n")
    echo(f"model: {found.model.save(cfg.model_out)} (fingerprint {found.model.fingerprint()})")
    html = page(found)
    echo(f"report: {html.write(cfg.report_out)}")
    if cfg.tracking_uri is not None:
        from training.segments.registry import log_segments

        registered = log_segments(
            cfg.tracking_uri,
            found.model,
            params=_params(cfg, found),
            metrics=_metrics(found),
            texts={"segments.txt": text, "segments.html": html.render()},
            model_name=cfg.model_name,
            register=cfg.register,
            alias=cfg.alias,
        )
        where = f"{cfg.model_name} v{registered.version}" if registered.version else "not registered"
        pointer = f", alias {cfg.alias}" if registered.version and cfg.alias else ""
        echo(f"mlflow: run {registered.run_id}, {where}{pointer} ({cfg.tracking_uri})")
    echo(f"done in {time.monotonic() - started:.1f} s")
    return found


def _params(cfg: SegmentsConfig, found: SegmentDiscovery) -> dict[str, object]:
    return {
        "features": ",".join(found.features),
        "pruned": ",".join(p.feature for p in found.pruned),
        "k_range": f"{min(cfg.k_range)}-{max(cfg.k_range)}",
        "chosen_k": found.chosen.k,
        "min_size": cfg.min_size,
        "seed": cfg.seed,
        "bootstrap": cfg.bootstrap,
        "scaling": str(cfg.scaling),
        "as_of": found.model.as_of,
        "users": len(found.behaviour),
    }


def _metrics(found: SegmentDiscovery) -> dict[str, float]:
    metrics = {
        "silhouette": found.chosen.silhouette,
        "stability_ari": found.chosen.stability,
        "segments": float(len(found.model.segments)),
        "smallest_segment": float(segment_frame(found)["users"].min()),
    }
    if found.planted is not None:
        metrics |= {
            "planted_ari": found.planted.ari,
            "planted_nearest_mean_ari": found.planted.nearest_mean_ari,
            "planted_supervised_ari": found.planted.supervised_ari,
        }
    return metrics


def _first(root: Path, stem: str) -> Path | None:
    return next((root / f"{stem}{s}" for s in (".parquet", ".csv") if (root / f"{stem}{s}").exists()), None)
