"""Every setting of the service, from DECISION_* environment variables or flags.

One class, one documented field each; `decision serve --help` and the README
table are generated from / checked against it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PLACEMENTS: dict[str, tuple[str, ...]] = {
    "home_banner": ("home_welcome",),
    "cart_page": ("cart_bestsellers",),
    "product_page": ("product_bestsellers",),
    "email": ("email_newsletter",),
}


class Settings(BaseSettings):
    """Configuration of `decision serve`. Flags override environment variables."""

    model_config = SettingsConfigDict(env_prefix="DECISION_", extra="forbid", frozen=True)

    listen: str = Field("127.0.0.1:50051", description="host:port to serve gRPC on (port 0 = any free port)")
    port_file: Path | None = Field(None, description="write the bound port here once serving (for scripts)")
    processes: int = Field(1, ge=1, le=64, description="server processes sharing the port (SO_REUSEPORT), one per core")
    workers: int = Field(8, ge=1, le=256, description="gRPC worker threads per process")
    max_concurrent_rpcs: int = Field(256, ge=1, description="calls in progress per process before RESOURCE_EXHAUSTED")
    grace_seconds: float = Field(5.0, ge=0, description="on SIGTERM/SIGINT, how long in-flight calls may finish")
    decide_timeout_ms: float = Field(250.0, gt=0, description="time budget of a Decide without a client deadline")
    rules_path: Path = Field(Path("rules"), description="rule files (a folder of *.yaml, or one file)")
    rules_poll_seconds: float = Field(
        1.0, gt=0, description="how often the rules and experiments paths are checked for changes"
    )
    experiments_path: Path = Field(
        Path("experiments"), description="experiment files (a folder of *.yaml, or one file); none = no experiments"
    )
    tracking_uri: str = Field("sqlite:///var/mlflow/mlflow.db", description="MLflow tracking/registry URI")
    model_name: str = Field("next_best_content", description="registered model to serve")
    model_alias: str = Field("champion", description="registry alias the service follows")
    model_poll_seconds: float = Field(30.0, gt=0, description="how often the alias is checked for a new version")
    max_model_aliases: int = Field(
        3, ge=1, le=16, description="models kept loaded at once (the champion plus aliases experiment arms compare)"
    )
    registry_timeout_seconds: float = Field(10.0, gt=0, description="give up on one registry call after this long")
    model_cache_dir: Path = Field(Path("var/models"), description="where downloaded model versions are kept")
    load_check_timeout_seconds: float = Field(
        60.0, gt=0, description="a new model must load and predict in a child process within this"
    )
    model_compile_timeout_seconds: float = Field(
        120.0,
        ge=0,
        description="compile a new model to native code (lleaves) within this, else LightGBM scores it; 0 = never",
    )
    shared_state_url: str | None = Field(
        None,
        description="Redis URL (redis://host:6379/0) for state shared by processes and replicas: bandit "
        "statistics, live profiles; empty = kept in this process",
    )
    shared_state_prefix: str = Field(
        "decision", min_length=1, max_length=64, description="prefix of every key the service writes in Redis"
    )
    bandit_refresh_seconds: float = Field(
        0.5, gt=0, le=60, description="how often adaptive experiments republish their arm probabilities"
    )
    catalog_path: Path = Field(Path("var/data/catalog.json"), description="content catalog the model ranks")
    profiles_path: Path = Field(Path("var/profiles.jsonl"), description="per-user profile snapshot from training")
    segments_path: Path = Field(
        Path("var/segments.json"), description="segment model (training segments); without one, no user has a segment"
    )
    profile_max_users: int = Field(
        100_000, ge=1, description="live profiles kept in memory per process; the least recently updated go first"
    )
    profile_ttl_seconds: float = Field(
        7 * 86_400.0, gt=0, description="a live profile is dropped this long after its last event"
    )
    profile_cache_seconds: float = Field(
        1.0, ge=0, description="with a shared store, how long a process reuses a profile it read from it"
    )
    forgotten_path: Path = Field(
        Path("var/forgotten.keys"),
        description="user keys removed by Forget (training leaves them out too); with a shared store, in Redis",
    )
    decision_log_path: Path | None = Field(
        Path("var/decisions.jsonl"), description="decision log (JSON lines); empty disables"
    )
    outcome_log_path: Path | None = Field(
        Path("var/outcomes.jsonl"), description="outcome log (JSON lines) of ReportOutcome; empty disables"
    )
    outcome_types: tuple[str, ...] = Field(
        (),
        description='outcome types accepted besides impression, click, add_to_cart and conversion, JSON: ["signup"]',
    )
    user_key_path: Path = Field(
        Path("var/user.key"),
        description="secret for pseudonymous user keys (HMAC), created owner-only on first start; "
        "training reads the same file",
    )
    user_key: SecretStr | None = Field(
        None, description="the user-key secret as hex, instead of the file (replicas must share one)"
    )
    metrics_port: int = Field(9464, ge=0, le=65535, description="Prometheus /metrics port (0 disables)")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="log level")
    log_format: Literal["json", "text"] = Field("text", description="log line format")
    tiers: tuple[str, ...] = Field(
        ("rules", "experiments", "model", "default"),
        description="the tiers Decide walks, in order, JSON: built-in names (rules, model, default) or "
        '"name=module:function" for your own; the last is always "default"',
    )
    placements: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: dict(DEFAULT_PLACEMENTS),
        description='placements and their default content, JSON: {"home_banner": ["home_welcome"]}',
    )

    @field_validator("placements")
    @classmethod
    def _placements_have_defaults(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for name, content in value.items():
            if not name or not content:
                raise ValueError(f"placement {name!r} needs a name and at least one default content id")
        return value

    @field_validator("tiers")
    @classmethod
    def _tiers_end_with_default(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or value[-1] != "default":
            raise ValueError('the last tier must be "default" (the placement\'s default content always answers)')
        names = [entry.partition("=")[0].strip() for entry in value]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"tier names must be unique; repeated: {', '.join(repeated)}")
        return value

    @field_validator("outcome_types")
    @classmethod
    def _outcome_types_are_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not name or len(name) > 64 or not name.replace("_", "").isalnum() or not name.isascii():
                raise ValueError(f"outcome type {name!r}: use 1-64 letters, digits and _")
        return value

    @field_validator(
        "port_file", "decision_log_path", "outcome_log_path", "user_key", "shared_state_url", mode="before"
    )
    @classmethod
    def _empty_path_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("listen")
    @classmethod
    def _listen_has_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"{value!r} is not host:port (e.g. 127.0.0.1:50051)")
        return value

    def redacted(self) -> dict[str, object]:
        """The settings as printed at start: credentials in URIs hidden."""
        dumped = self.model_dump(mode="json")
        dumped["tracking_uri"] = redact_uri(self.tracking_uri)
        if self.shared_state_url:
            dumped["shared_state_url"] = redact_uri(self.shared_state_url)
        return dumped


def redact_uri(uri: str) -> str:
    """Hide `user:password@` in a URI so it can be logged."""
    scheme, sep, rest = uri.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return uri
