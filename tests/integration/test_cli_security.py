"""`decision serve` with mutual TLS, tokens and a health port, asked by `decision health` and
`decision decide` with --tls-ca/--tls-cert/--tls-key/--token, as an operator would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from decision.cli import cli
from decision.security.tokens import add_token
from tests.integration.serving import start_server
from tests.pki import make_pki


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_clients_pass_tls_and_a_token_end_to_end(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "tls")
    tokens = tmp_path / "tokens.yaml"
    token = add_token(tokens, "web", ["decide"])
    health_port = _free_port()
    process, port = start_server(
        tmp_path,
        *("--tls-cert-path", str(pki.server.cert), "--tls-key-path", str(pki.server.key)),
        *("--tls-client-ca-path", str(pki.ca), "--tokens-path", str(tokens)),
        *("--health-listen", f"127.0.0.1:{health_port}"),
    )
    tls = ["--target", f"localhost:{port}", "--tls-ca", str(pki.ca)]
    tls += ["--tls-cert", str(pki.client.cert), "--tls-key", str(pki.client.key)]
    decide = ["decide", *tls, "--user", "u1", "--placement", "home_banner"]
    try:
        health = subprocess.run(
            [sys.executable, "-m", "decision", "health", *tls], capture_output=True, text=True, timeout=30, check=False
        )
        assert (health.returncode, health.stdout) == (0, "SERVING\n")
        runner = CliRunner()
        answered = runner.invoke(cli, [*decide, "--token", token])
        assert answered.exit_code == 0, answered.output
        assert "decided by DEFAULT" in answered.stdout
        assert runner.invoke(cli, decide, env={"DECISION_TOKEN": token}).exit_code == 0
        refused = runner.invoke(cli, decide)
        assert refused.exit_code == 1
        assert "UNAUTHENTICATED" in refused.output
        plaintext = runner.invoke(cli, ["health", "--target", f"localhost:{port}"])
        assert plaintext.exit_code == 1
        assert "UNAVAILABLE" in plaintext.output
        probe = runner.invoke(cli, ["health", "--target", f"127.0.0.1:{health_port}"])
        assert (probe.exit_code, probe.stdout) == (0, "SERVING\n")
        half = runner.invoke(cli, ["health", "--target", f"localhost:{port}", "--tls-cert", str(pki.client.cert)])
        assert half.exit_code == 2
        assert "--tls-cert and --tls-key go together" in half.output
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize("processes", ["1", "2"])
def test_serve_refuses_an_expired_certificate_naming_the_file(tmp_path: Path, processes: str) -> None:
    """With --processes 2 the parent checks the files: children would fail and be restarted forever."""
    expired = make_pki(tmp_path).expired_server()
    serve = [sys.executable, "-m", "decision", "serve", "--listen", "127.0.0.1:0", "--metrics-port", "0"]
    serve += ["--processes", processes]
    done = subprocess.run(
        [*serve, "--tls-cert-path", str(expired.cert), "--tls-key-path", str(expired.key)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "DECISION_DECISION_LOG_PATH": "", "DECISION_OUTCOME_LOG_PATH": ""},
    )
    assert done.returncode == 1
    assert f"Error: cannot serve TLS: tls_cert_path {expired.cert}: expired on" in done.stderr
