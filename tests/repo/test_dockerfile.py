"""Static checks of the Dockerfile (no Docker engine runs on these machines)."""

from __future__ import annotations

import re
from pathlib import Path

from decision.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
INSTRUCTIONS = [line.strip() for line in re.sub(r"\\\n", " ", DOCKERFILE).splitlines() if line.strip()]


def _all(keyword: str) -> list[str]:
    return [line[len(keyword) :].strip() for line in INSTRUCTIONS if line.upper().startswith(keyword + " ")]


def test_base_images_are_pinned_to_an_exact_release() -> None:
    for base in _all("FROM"):
        image = base.split()[0]
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?", image), image


def test_runs_as_a_non_root_user() -> None:
    users = _all("USER")
    assert users, "no USER instruction"
    assert users[-1] not in ("root", "0")


def test_has_a_grpc_healthcheck_and_the_serve_entrypoint() -> None:
    (healthcheck,) = _all("HEALTHCHECK")
    assert '"decision", "health"' in healthcheck
    assert _all("ENTRYPOINT") == ['["decision", "serve"]']
    assert "50051" in " ".join(_all("EXPOSE"))


def test_every_copied_path_exists_and_no_secret_is_copied() -> None:
    for args in _all("COPY"):
        sources = [a for a in args.split() if not a.startswith("--")][:-1]
        for source in sources:
            if "--from=" in args:
                continue
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert not re.search(r"(\.env|\.pem|\.key|secret|credential|id_rsa)", source, re.I), source


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", "var", ".env"):
        assert entry in ignored


def _env() -> dict[str, str]:
    pairs = [pair.split("=", 1) for args in _all("ENV") for pair in args.split()]
    return {name: value for name, value in pairs}


def test_tls_and_tokens_are_on_and_read_from_mounted_files() -> None:
    env = _env()
    for name in ("DECISION_TLS_CERT_PATH", "DECISION_TLS_KEY_PATH", "DECISION_TOKENS_PATH"):
        assert env.get(name, "").startswith("/etc/decision/"), f"{name} is not set to a mounted file"
        assert name.removeprefix("DECISION_").lower() in Settings.model_fields
    assert not any("/etc/decision" in args for args in _all("COPY")), "secrets are mounted, never baked in"


def test_the_healthcheck_asks_the_plaintext_health_port() -> None:
    port = _env()["DECISION_HEALTH_LISTEN"].rpartition(":")[2]
    (healthcheck,) = _all("HEALTHCHECK")
    assert f'"127.0.0.1:{port}"' in healthcheck
    assert port in " ".join(_all("EXPOSE"))
