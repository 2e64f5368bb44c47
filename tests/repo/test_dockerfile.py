"""Static checks of the Dockerfile (no Docker engine runs on these machines)."""

from __future__ import annotations

import re
from pathlib import Path

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
